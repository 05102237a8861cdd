package demo

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keysync/sync"
)

// Progress shows the progress of sync runs on a terminal: one line that
// updates in place when its writer is a terminal, otherwise (a log file, a
// pipe) a plain line at most every Interval. Use its Update method as
// Options.Progress and call Done when the run returns. It is not safe for
// concurrent use, which the orchestrators never need.
type Progress struct {
	w        io.Writer
	terminal bool
	shown    bool // an updating line is on screen

	// Interval is the least time between two plain lines; the first comes
	// Interval after the run started, so that short runs print none.
	Interval time.Duration

	// Now is the clock (default time.Now).
	Now func() time.Time

	start, last time.Time
}

// NewProgress returns a Progress writing to w, which it treats as a
// terminal when it is an *os.File on a character device. Plain lines come
// every 5 seconds.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, terminal: isTerminal(w), Interval: 5 * time.Second, Now: time.Now}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update shows p.
func (pr *Progress) Update(p sync.Progress) {
	now := pr.Now()
	if pr.start.IsZero() {
		pr.start, pr.last = now, now
	}
	if pr.terminal {
		// \r goes back to the line start, \033[K clears the rest of it.
		fmt.Fprintf(pr.w, "\r\033[K%s", describeProgress(p))
		pr.shown = true
		return
	}
	if now.Sub(pr.last) < pr.Interval {
		return
	}
	pr.last = now
	fmt.Fprintf(pr.w, "%s (%s)\n", describeProgress(p), now.Sub(pr.start).Round(time.Second))
}

// Done clears the updating line, if any, and resets the clock for the next
// run.
func (pr *Progress) Done() {
	if pr.shown {
		fmt.Fprint(pr.w, "\r\033[K")
		pr.shown = false
	}
	pr.start = time.Time{}
}

// describeProgress is one line such as "writing Pipedrive→HubSpot: 100 of
// 500 (20%)".
func describeProgress(p sync.Progress) string {
	s := string(p.Phase)
	if p.Direction != "" {
		s += " " + p.Direction
	}
	switch {
	case p.Total < 0:
		return fmt.Sprintf("%s: %d records", s, p.Done)
	case p.Total == 0:
		return s
	}
	return fmt.Sprintf("%s: %d of %d (%d%%)", s, p.Done, p.Total, 100*p.Done/p.Total)
}
