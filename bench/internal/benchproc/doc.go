// Package benchproc is what Mirador's load drivers under bench/ share to
// measure a real server from a separate process: building cmd/mirador,
// starting it as a child process on loopback ports and stopping it,
// reading its CPU time and resident memory (including the peak) from
// Linux's /proc, describing the machine, fetching and summarising the
// server's CPU profile, sizing and evicting its data files from the page
// cache, and formatting figures for reports.
//
// It is Linux-only, like the drivers: it reads /proc and uses Linux
// process attributes. It must not import Mirador's server packages: a
// driver measures the server over the wire, as a user's client would.
package benchproc
