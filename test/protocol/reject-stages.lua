-- A refusal at each SMTP stage reaches the MTA as the configured reply, at that stage:
-- connect (denied client), HELO (bad syntax), MAIL (sender pattern), RCPT (relay), end of message
-- (blocked attachment). Each scenario uses its own connection.
local function open()
  local c = mt.connect(MILTER, 40, 0.25)
  assert(c, "cannot connect")
  assert(mt.negotiate(c, 6, nil, nil) == nil)
  return c
end

-- connect: the client is on the deny list and rejectAt is connect
local c = open()
assert(mt.conninfo(c, "bad.example.net", "192.0.2.66") == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "connect: denied client not refused")
mt.disconnect(c)

-- HELO: not a host name
c = open()
assert(mt.conninfo(c, "client.example.org", "198.51.100.7") == nil)
assert(mt.getreply(c) == SMFIR_CONTINUE)
assert(mt.helo(c, "bad helo!!") == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "helo: bad syntax not refused")
mt.disconnect(c)

-- MAIL: sender matches a deny pattern
c = open()
assert(mt.conninfo(c, "client.example.org", "198.51.100.7") == nil)
assert(mt.helo(c, "client.example.org") == nil)
assert(mt.mailfrom(c, "<spammer@example.org>") == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "mail: denied sender not refused")
mt.disconnect(c)

-- RCPT: relay to a domain we do not serve, one recipient only; the local one is accepted
c = open()
assert(mt.conninfo(c, "client.example.org", "198.51.100.7") == nil)
assert(mt.helo(c, "client.example.org") == nil)
assert(mt.mailfrom(c, "<alice@example.org>") == nil)
assert(mt.getreply(c) == SMFIR_CONTINUE, "mail: good sender refused")
assert(mt.rcptto(c, "<someone@elsewhere.example>") == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "rcpt: relay not refused")
assert(mt.rcptto(c, "<bob@example.test>") == nil)
assert(mt.getreply(c) == SMFIR_CONTINUE, "rcpt: local recipient refused")
mt.disconnect(c)

-- EOM: an executable attachment
c = open()
assert(mt.conninfo(c, "client.example.org", "198.51.100.7") == nil)
assert(mt.helo(c, "client.example.org") == nil)
assert(mt.mailfrom(c, "<alice@example.org>") == nil)
assert(mt.rcptto(c, "<bob@example.test>") == nil)
assert(mt.header(c, "From", "alice@example.org") == nil)
assert(mt.header(c, "Date", "Thu, 3 Dec 2026 10:00:00 +0000") == nil)
assert(mt.header(c, "MIME-Version", "1.0") == nil)
assert(mt.header(c, "Content-Type", "multipart/mixed; boundary=\"b1\"") == nil)
assert(mt.eoh(c) == nil)
assert(mt.bodystring(c, "--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\nContent-Type: application/octet-stream; name=\"invoice.pdf.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b1--\r\n") == nil)
assert(mt.eom(c) == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "eom: executable attachment not refused")
mt.disconnect(c)
print("ok reject-stages")
