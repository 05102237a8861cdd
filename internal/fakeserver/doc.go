// Package fakeserver holds what the fake API servers of this module
// (hubspot/hubspottest and pipedrive/pipedrivetest) share, so that each
// fake keeps only its vendor's behaviour.
//
// # Request log
//
// [Log] records the requests a fake received, in arrival order, with the
// status it answered; [Log.Count] and [Log.MaxInWindow] back the fakes'
// Count and MaxRequestsInWindow methods. Each fake keeps its own exported
// Request type and converts [Entry] values to it.
//
// # HTTP helpers
//
// [StatusWriter] notes the status a handler wrote. [Transport] serves
// requests with a handler in memory, for tests inside a testing/synctest
// bubble, where sockets cannot be used and time is simulated.
package fakeserver
