package demo

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/keysync/sync/hubspot"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// The environment variables the demos read.
const (
	EnvPipedriveToken  = "PIPEDRIVE_API_TOKEN"
	EnvPipedriveDomain = "PIPEDRIVE_COMPANY_DOMAIN"
	EnvHubSpotToken    = "HUBSPOT_TOKEN"
)

// ErrPartialCredentials means one service has credentials and the other has
// none: the demos run against both real services or against both fakes.
// Its text is written for the person running a demo, which prints it after
// its own name ([Command.Main]), so it names no package.
var ErrPartialCredentials = errors.New("set both " + EnvPipedriveToken + " and " +
	EnvHubSpotToken + " to use the real services, or neither to use the built-in fakes")

// Env is where the demos find the two systems. Its String and GoString
// methods leave the tokens out, so printing an Env cannot leak them.
type Env struct {
	// PipedriveToken is a Pipedrive API token ($PIPEDRIVE_API_TOKEN).
	PipedriveToken string

	// PipedriveDomain is the company's Pipedrive subdomain, such as
	// "example-co" for https://example-co.pipedrive.com
	// ($PIPEDRIVE_COMPANY_DOMAIN). Empty means api.pipedrive.com.
	PipedriveDomain string

	// HubSpotToken is a HubSpot private-app token ($HUBSPOT_TOKEN) with the
	// crm.objects.contacts.read and .write scopes.
	HubSpotToken string

	// PipedriveURL and HubSpotURL replace the API hosts when set. They are
	// not read from the environment; tests point them at fakes.
	PipedriveURL, HubSpotURL string
}

// EnvFrom reads an Env with getenv, such as [os.Getenv].
func EnvFrom(getenv func(string) string) Env {
	return Env{
		PipedriveToken:  strings.TrimSpace(getenv(EnvPipedriveToken)),
		PipedriveDomain: strings.TrimSpace(getenv(EnvPipedriveDomain)),
		HubSpotToken:    strings.TrimSpace(getenv(EnvHubSpotToken)),
	}
}

// Real reports whether e names real services (both tokens set) rather than
// none (the demos then start fakes). One token without the other gives
// [ErrPartialCredentials].
func (e Env) Real() (bool, error) {
	switch {
	case e.PipedriveToken != "" && e.HubSpotToken != "":
		return true, nil
	case e.PipedriveToken == "" && e.HubSpotToken == "":
		return false, nil
	}
	return false, ErrPartialCredentials
}

// String describes e without its tokens.
func (e Env) String() string {
	return fmt.Sprintf("demo.Env{Pipedrive: %s, HubSpot: %s}",
		e.pipedriveHost(), orDefault(e.HubSpotURL, hubspot.DefaultBaseURL))
}

// GoString is String, so that %#v does not print the tokens either.
func (e Env) GoString() string { return e.String() }

func (e Env) pipedriveHost() string {
	switch {
	case e.PipedriveURL != "":
		return e.PipedriveURL
	case e.PipedriveDomain != "":
		return "https://" + companyDomain(e.PipedriveDomain) + ".pipedrive.com"
	}
	return pipedrive.DefaultBaseURL
}

// companyDomain accepts "example-co", "example-co.pipedrive.com" and
// "https://example-co.pipedrive.com" alike.
func companyDomain(d string) string {
	d = strings.TrimPrefix(d, "https://")
	d = strings.TrimSuffix(d, "/")
	return strings.TrimSuffix(d, ".pipedrive.com")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Systems are the two connectors a demo syncs, with the fakes behind them
// when it runs without credentials.
type Systems struct {
	// Pipedrive lists and writes Pipedrive persons.
	Pipedrive *pipedrive.Persons

	// HubSpot lists and writes HubSpot contacts.
	HubSpot *hubspot.Contacts

	// PipedriveFake and HubSpotFake are the built-in fakes, or nil when the
	// connectors talk to the real services.
	PipedriveFake *pipedrivetest.Server
	HubSpotFake   *hubspottest.Server

	// Logger is ConnectOptions.Logger, for the sync's options.
	Logger *slog.Logger
}

// Fake reports whether the systems are the built-in fakes.
func (s *Systems) Fake() bool { return s.PipedriveFake != nil }

// Close stops the fakes, if any.
func (s *Systems) Close() {
	if s.PipedriveFake != nil {
		s.PipedriveFake.Close()
	}
	if s.HubSpotFake != nil {
		s.HubSpotFake.Close()
	}
}

// ConnectOptions configures [Connect] and [Open].
type ConnectOptions struct {
	// N8N makes both connectors present records in the shapes of the legacy
	// APIs that n8n's nodes use (Pipedrive v1, HubSpot contacts v1), so that
	// the tutorial's key paths work unchanged. See [Mapping].
	N8N bool

	// Logger receives the clients' Debug record per request (method, path,
	// status; never tokens). Nil logs nothing.
	Logger *slog.Logger
}

// Connect returns connectors for the services env names. It makes no
// request.
func Connect(env Env, o ConnectOptions) (*Systems, error) {
	pdOpts := []pipedrive.Option{pipedrive.WithLogger(o.Logger)}
	switch {
	case env.PipedriveURL != "":
		pdOpts = append(pdOpts, pipedrive.WithBaseURL(env.PipedriveURL))
	case env.PipedriveDomain != "":
		pdOpts = append(pdOpts, pipedrive.WithCompanyDomain(companyDomain(env.PipedriveDomain)))
	}
	pdc, err := pipedrive.NewClient(env.PipedriveToken, pdOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Pipedrive client: %w", err)
	}
	persons, err := pipedrive.NewPersons(pdc, pipedrive.PersonsOptions{Legacy: o.N8N})
	if err != nil {
		return nil, fmt.Errorf("creating the Pipedrive connector: %w", err)
	}

	contacts, err := ConnectHubSpot(env, o, ContactProperties()...)
	if err != nil {
		return nil, err
	}
	return &Systems{Pipedrive: persons, HubSpot: contacts, Logger: o.Logger}, nil
}

// ConnectHubSpot returns a HubSpot contacts connector for env's token (and
// HubSpotURL) that reads the given properties. It makes no request.
func ConnectHubSpot(env Env, o ConnectOptions, properties ...string) (*hubspot.Contacts, error) {
	opts := []hubspot.Option{hubspot.WithLogger(o.Logger)}
	if env.HubSpotURL != "" {
		opts = append(opts, hubspot.WithBaseURL(env.HubSpotURL))
	}
	c, err := hubspot.NewClient(env.HubSpotToken, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the HubSpot client: %w", err)
	}
	return hubspot.NewContacts(c, hubspot.ContactsOptions{
		Properties: properties, Legacy: o.N8N,
	}), nil
}

// ContactProperties are the HubSpot properties the demos read.
func ContactProperties() []string {
	return []string{"email", "firstname", "lastname", "phone"}
}

// Open returns the real services when env has credentials; otherwise it
// starts the built-in fakes, seeded with [People], and connects to them.
// The caller must Close the systems.
func Open(env Env, o ConnectOptions) (*Systems, error) {
	isReal, err := env.Real()
	if err != nil {
		return nil, err
	}
	if isReal {
		return Connect(env, o)
	}
	return OpenFakes(People(), o)
}

// OpenFakes starts the built-in fakes holding people (see [StartFakes]) and
// connects to them. The caller must Close the systems, which stops the
// fakes.
func OpenFakes(people []Person, o ConnectOptions) (*Systems, error) {
	pf, hf := StartFakes(people)
	sys, err := Connect(FakeEnv(pf, hf), o)
	if err != nil {
		pf.Close()
		hf.Close()
		return nil, err
	}
	sys.PipedriveFake, sys.HubSpotFake = pf, hf
	return sys, nil
}

// StartFakes starts a fake Pipedrive and a fake HubSpot holding people. The
// fakes keep their default (real-world) rate limits. The caller must Close
// both.
func StartFakes(people []Person) (*pipedrivetest.Server, *hubspottest.Server) {
	pf := pipedrivetest.NewServer()
	pf.Seed(PipedriveSeed(people)...)
	hf := hubspottest.NewServer()
	hf.Seed(HubSpotSeed(people)...)
	return pf, hf
}

// FakeEnv returns the Env that reaches the given fakes.
func FakeEnv(pf *pipedrivetest.Server, hf *hubspottest.Server) Env {
	return Env{
		PipedriveToken: pf.Token, PipedriveURL: pf.URL,
		HubSpotToken: hf.Token, HubSpotURL: hf.URL,
	}
}

// PipedriveSystem describes the Pipedrive persons of s for [PrintReport].
func (s *Systems) PipedriveSystem() System { return PipedriveSystem(s.Pipedrive.RecordID) }

// HubSpotSystem describes the HubSpot contacts of s for [PrintReport].
func (s *Systems) HubSpotSystem() System { return HubSpotSystem(s.HubSpot.RecordID) }

// PrintSystems writes a line saying which systems s are.
func PrintSystems(w io.Writer, s *Systems) {
	if s.Fake() {
		fmt.Fprintf(w, "Systems: built-in fakes with %d sample persons and %d contacts\n"+
			"(set %s and %s to use your accounts).\n",
			len(s.PipedriveFake.Persons()), len(s.HubSpotFake.Contacts()),
			EnvPipedriveToken, EnvHubSpotToken)
		return
	}
	fmt.Fprintln(w, "Systems: your Pipedrive and HubSpot accounts.")
}
