-- Several messages on one connection with ABORT between: each is judged on its own and the
-- connection state (client, HELO) is kept.
conn = mt.connect(MILTER, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.negotiate(conn, 6, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example.org", "198.51.100.7") == nil)
assert(mt.helo(conn, "client.example.org") == nil)
for i = 1, 3 do
  assert(mt.mailfrom(conn, "<alice@example.org>") == nil)
  assert(mt.rcptto(conn, "<bob" .. i .. "@example.test>") == nil)
  assert(mt.header(conn, "From", "alice@example.org") == nil)
  assert(mt.header(conn, "Date", "Thu, 3 Dec 2026 10:00:00 +0000") == nil)
  assert(mt.header(conn, "Subject", "message " .. i) == nil)
  assert(mt.eoh(conn) == nil)
  assert(mt.bodystring(conn, "body " .. i .. "\r\n") == nil)
  assert(mt.eom(conn) == nil)
  local r = mt.getreply(conn)
  assert(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "message " .. i .. ": got " .. string.char(r))
  assert(mt.eom_check(conn, MT_HDRADD, TRACE), "message " .. i .. ": no trace header")
  assert(mt.abort(conn) == nil)
end
mt.disconnect(conn)
print("ok multi")
