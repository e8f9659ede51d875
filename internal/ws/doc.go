// Package ws is lsdvr's websocket hub, served at GET /api/v1/ws. It sends
// every published event to every connected client, in seq order, as the
// exact envelope bytes that webhooks receive.
//
// # Protocol
//
// On accept the server sends a "connected" envelope to that client only
// (seq 0: it is not part of the event log and never reaches webhooks). Its
// data carries the client id, the server version and last_seq, the seq of
// the newest event in the log at that moment. Every later message is an
// event envelope (a text frame) with a seq higher than the one before.
//
// # Resuming
//
// A client that knows the last seq it saw resumes with ?after=SEQ, or by
// sending {"after":SEQ} as its first message within Config.ResumeWait
// (default 1 s). The hub replays what the client missed from the event log
// and then continues live, without gap or duplicate. An after beyond the
// newest event (the log was reset) counts as the newest event. Events the
// log has pruned in the meantime cannot be replayed.
//
// Without a resume request the client receives every event committed after
// it connected, i.e. with seq > last_seq of its connected message; events
// published while the hub waits for a possible {"after":...} message are
// held, not lost.
//
// # Client messages
//
// The text "ping" is answered with the text "pong" (LiveStreamDVR clients
// rely on it). {"after":SEQ} is honoured only as the first message; later
// ones, and anything else, are ignored: the stream carries only envelopes,
// so clients never have to tell an error reply from an event.
//
// # Slow clients and keepalive
//
// Each client has a bounded send buffer (Config.SendBuffer events). When an
// event arrives and the buffer is full, that client is closed with status
// 1008 (policy violation) and reason "slow consumer: send buffer full";
// other clients never wait for it. 1008 rather than 1013 because the client,
// not the server, is at fault; it may reconnect with ?after=SEQ to catch up
// from the log. The server pings every Config.PingInterval and closes a
// client that does not answer within Config.WriteTimeout. Stop closes every
// client with 1001 (going away).
package ws
