// Package api is lsdvr's HTTP interface: the JSON REST API under /api/v1,
// the websocket, hook receivers, /healthz and /metrics.
//
// Handlers return errors; writeError maps a dvr.Error's code to a status and
// writes {"error":{"code":"...","message":"..."}}. Anything else is logged
// and reported as an internal error without its details. There is a file per
// resource, each registering its own routes on the standard library mux.
package api
