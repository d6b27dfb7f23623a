package eventstore

import "errors"

// ErrClosed is returned by Append and Scan after Close.
var ErrClosed = errors.New("event store closed")

// ErrStop ends a scan early without error when a Visitor returns it.
var ErrStop = errors.New("stop scan")
