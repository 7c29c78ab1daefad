#!/usr/bin/env bash
# Install what the real-component tests need (Postfix, sendmail 8.17 unpacked beside it, swaks,
# miltertest, clamd, Redis, m4, libwrap0) and bless the private Postfix instance directories.
# Idempotent and quiet: runs `apt-get update` only when a package is missing; safe to run twice.
# Must be run as root on Debian/Ubuntu. It never touches the default Postfix instance beyond
# creating /etc/postfix/main.cf when absent and listing the test directories in it.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "install-test-deps.sh: must run as root (skipping)" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SENDMAIL_CACHE="${POSTERN_SENDMAIL_DIR:-/var/cache/postern-test/sendmail}"
# Private Postfix instances live in a fixed pool of slot directories (see test/harness/postfix.ts:
# POSTFIX_POOL_PARENT / POSTFIX_POOL_SIZE; keep both in sync). postfix -c DIR only works when DIR is
# listed literally (no globs) in the default main.cf, so the pool is listed once here.
POSTFIX_POOL_PARENT=/var/tmp/postern-postfix
POSTFIX_POOL_SIZE=32

PACKAGES=(postfix swaks miltertest clamav-daemon redis-server m4 libwrap0)

log() { echo "install-test-deps: $*"; }

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # Tests start private instances on free loopback ports and never use the system daemons: keep
  # the packages from starting them (clamd without signatures, a system redis on 6379...).
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  rc=0
  { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
  [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { echo "install-test-deps: apt-get failed ($rc)" >&2; exit "$rc"; }
fi

# sendmail 8.17, unpacked (not installed: it would replace Postfix as /usr/sbin/sendmail).
if [ ! -x "$SENDMAIL_CACHE/usr/libexec/sendmail/sendmail" ] || [ ! -d "$SENDMAIL_CACHE/usr/share/sendmail/cf/m4" ]; then
  log "fetching sendmail-bin sendmail-cf sendmail-base into $SENDMAIL_CACHE"
  mkdir -p "$SENDMAIL_CACHE"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"
  # apt-get download runs as _apt when it can: let it write there.
  chown _apt "$tmp" 2>/dev/null || true
  if ! (cd "$tmp" && apt-get download -qq sendmail-bin sendmail-cf sendmail-base >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$tmp" && apt-get download -qq sendmail-bin sendmail-cf sendmail-base >/dev/null)
  fi
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$SENDMAIL_CACHE"; done
fi

# The default main.cf must exist: postfix -c DIR reads it to check DIR is allowed.
if [ ! -f /etc/postfix/main.cf ]; then
  cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
  log "created /etc/postfix/main.cf from main.cf.debian"
fi

want=""
for i in $(seq 0 $((POSTFIX_POOL_SIZE - 1))); do want="$want $POSTFIX_POOL_PARENT/$i"; done
want="${want# }"
current="$(postconf -h alternate_config_directories 2>/dev/null || true)"
for d in $want; do
  case " $current " in
    *" $d "*|*" $d,"*) ;;
    *) postconf -e "alternate_config_directories = $want"; log "listed $POSTFIX_POOL_PARENT/0..$((POSTFIX_POOL_SIZE - 1)) in alternate_config_directories"; break ;;
  esac
done
mkdir -p "$POSTFIX_POOL_PARENT"
chmod 755 "$POSTFIX_POOL_PARENT"
