package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/keysync/sync"
)

// Loop calls run once and then, when every is positive, again every
// `every` (as n8n's Cron node does), until stop is done. Runs never overlap:
// a run that takes longer than every is followed by the next one at once.
//
// A run in progress when stop ends is allowed to finish, because it is
// given runCtx, not stop: Loop returns after it. To cancel that run as well,
// cancel runCtx (see [Signals]); Loop then returns the run's error.
//
// Without every, Loop returns the error of the one run. On a schedule, Loop
// writes a failed run's error to status (if not nil) and goes on with the
// next run, unless the error is bound to repeat (see [Fatal]): it then
// returns it. It also writes when the next run is due.
func Loop(stop, runCtx context.Context, every time.Duration, status io.Writer,
	run func(context.Context) error) error {
	if status == nil {
		status = io.Discard
	}
	if every <= 0 {
		return run(runCtx)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		err := run(runCtx)
		switch {
		case runCtx.Err() != nil:
			return err
		case err != nil && Fatal(err):
			return err
		case err != nil:
			fmt.Fprintf(status, "The run failed: %v\n", err)
		}
		if stop.Err() != nil {
			return nil
		}
		fmt.Fprintf(status, "Next run at %s (every %s); press Ctrl-C to stop.\n",
			time.Now().Add(every).Format(time.TimeOnly), every)
		select {
		case <-stop.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Fatal reports whether a failed run would fail again the same way on the
// next one, so that a schedule should end: the credentials are wrong or
// lack a permission, or the options or key paths are wrong.
func Fatal(err error) bool {
	for _, target := range []error{sync.ErrUnauthorized, sync.ErrForbidden,
		sync.ErrInvalidOptions, sync.ErrKeyPathSuspect} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Signals returns the two contexts of [Loop] for a program: stop is done at
// the first SIGINT (Ctrl-C) or SIGTERM, which lets the run in progress
// finish; run is done at the second one, which cancels that run as well
// (writes already sent stay done, the rest are reported as not attempted).
// At the first signal it writes what happens to status. Call release when
// done; it restores the default handling of the signals.
func Signals(status io.Writer) (stop, run context.Context, release func()) {
	stop, stopNotify := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	run, cancel := context.WithCancel(context.Background())
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-stop.Done():
		case <-quit:
			return
		}
		// Listen for the second signal before saying so, so that a quick
		// second Ctrl-C is not lost.
		second, secondNotify := signal.NotifyContext(context.Background(),
			os.Interrupt, syscall.SIGTERM)
		defer secondNotify()
		fmt.Fprintln(status, "\nInterrupted: stopping after the run in progress, if any. "+
			"Interrupt again to cancel it.")
		select {
		case <-second.Done():
			cancel()
		case <-quit:
		}
	}()
	return stop, run, func() {
		close(quit)
		<-exited
		stopNotify()
		cancel()
	}
}
