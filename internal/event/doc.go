// Package event is lsdvr's event contract: the catalogue of actions (one Go
// type each), the envelope every event travels in, and Publish, which writes
// an event into the same transaction as the state change that caused it.
//
// # Envelope
//
// Every event is sent as the same bytes over webhooks and the websocket:
//
//	{"id":"evt_01JF...","seq":1234,"action":"end_capture",
//	 "timestamp":"2026-12-04T19:20:00.123Z","data":{...}}
//
// id is unique and sortable and doubles as the webhook-id header; seq orders
// events and lets a websocket client resume after a disconnect.
//
// # Publishing
//
// Publish runs inside a store.Tx. Hooks registered with Bus.AddTxHook run in
// that transaction (the webhook package writes one delivery row per matching
// endpoint there), and subscribers registered with Bus.Subscribe see the
// event only after the transaction has committed, in seq order.
package event

//go:generate go run ./gendocs -out ../../docs
