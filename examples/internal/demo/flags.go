package demo

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Flags are the command-line flags the Pipedrive ↔ HubSpot demos share.
type Flags struct {
	// Apply writes to the real services; without it a run against them is
	// a dry run that prints the plan. Runs against the fakes always write.
	Apply bool

	// Every repeats the sync at this interval until interrupted; zero runs
	// it once.
	Every time.Duration

	// N8N uses the key paths of n8n's tutorial through the connectors'
	// legacy shapes; see [Mapping].
	N8N bool

	// Verbose logs every request and skipped record to stderr.
	Verbose bool
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.Apply, "apply", false,
		"write to the real services (without it, a run against them only prints the plan)")
	fs.DurationVar(&f.Every, "every", 0,
		"repeat the sync at this interval, such as 1m, until interrupted (default: run once)")
	fs.BoolVar(&f.N8N, "n8n-paths", false,
		"match with the tutorial's n8n key paths email[0].value and "+
			"identity-profiles[0].identities[0].value (legacy record shapes)")
	fs.BoolVar(&f.Verbose, "v", false, "log each request and skipped record to stderr")
}

// Check reports flag values that cannot work.
func (f *Flags) Check() error {
	if f.Every < 0 {
		return fmt.Errorf("-every must not be negative, got %s", f.Every)
	}
	return nil
}

// DryRun reports whether a run on sys only plans.
func (f *Flags) DryRun(sys *Systems) bool { return !sys.Fake() && !f.Apply }

// Logger returns the logger the flags ask for: Debug records to w with -v,
// else nil (silent).
func (f *Flags) Logger(w io.Writer) *slog.Logger {
	if !f.Verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
