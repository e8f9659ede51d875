// Package dvr holds the domain types every other package shares: channels,
// VODs, chapters and the few error kinds that map to HTTP statuses. It
// imports nothing of lsdvr so that any package may depend on it.
package dvr
