// Package sync keeps records in two systems in step: it lists both sides,
// matches records on a key written as a lodash-style path such as
// "email[0].value", and writes what one side lacks into the other.
package sync
