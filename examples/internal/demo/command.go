package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is the command-line scaffolding of a demo: flags, usage, exit
// codes.
type Command struct {
	// Name is the command's name, for messages.
	Name string

	// Usage is the text printed before the flags by -h.
	Usage string

	// Register defines the command's flags.
	Register func(fs *flag.FlagSet)

	// Check, if not nil, validates the parsed flags.
	Check func() error

	// Run runs the command once the flags are parsed; see [Loop] for stop
	// and runCtx.
	Run func(stop, runCtx context.Context, env Env, stdout, stderr io.Writer) error
}

// Main parses args, reads the [Env] through getenv, runs the command and
// returns the exit code: 0 when it succeeded (also when interrupted between
// scheduled runs) or printed help, 1 when it failed, 2 for bad usage.
func (c Command) Main(stop, runCtx context.Context, args []string, getenv func(string) string,
	stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), c.Usage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	c.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", c.Name, fs.Args())
		return 2
	}
	if c.Check != nil {
		if err := c.Check(); err != nil {
			c.printError(stderr, err)
			return 2
		}
	}
	if err := c.Run(stop, runCtx, EnvFrom(getenv), stdout, stderr); err != nil {
		c.printError(stderr, err)
		return 1
	}
	return 0
}

// printError writes err on a line of its own after the command's name,
// which it does not repeat when err's text already starts with it (as the
// errors of a package main named after its command may).
func (c Command) printError(w io.Writer, err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, c.Name+": ") {
		msg = c.Name + ": " + msg
	}
	fmt.Fprintln(w, msg)
}
