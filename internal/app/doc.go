// Package app wires lsdvr together: it builds every service from the
// configuration, starts them in dependency order, serves HTTP, and stops
// them in reverse order on shutdown. It holds no logic of its own.
package app
