// Package server assembles a Mirador server from its configuration: it binds
// the listeners, opens the meta store and the engines, wires the receivers
// and APIs to them, and owns the lifecycle, from the secure-by-default check
// at start-up to a graceful shutdown that drains requests and closes storage.
//
// It is the only package that knows every component; the components know
// nothing of it.
package server
