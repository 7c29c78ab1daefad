-- Negotiation: Postern answers a v6 offer with v6, asks to add headers and quarantine, and asks no
-- reply for headers and body chunks (it decides at end of message).
conn = mt.connect(MILTER, 40, 0.25)
assert(conn, "cannot connect to " .. MILTER)
assert(mt.negotiate(conn, 6, nil, nil) == nil, "negotiation failed")
assert(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not requested")
assert(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not requested")
assert(mt.test_option(conn, SMFIP_NR_HDR), "NR_HDR not requested")
assert(mt.test_option(conn, SMFIP_NR_BODY), "NR_BODY not requested")
mt.disconnect(conn)
print("ok negotiate")
