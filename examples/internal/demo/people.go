package demo

import (
	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// Where says in which systems a sample person is stored.
type Where int

// The places of sample people.
const (
	Both Where = iota
	PipedriveOnly
	HubSpotOnly
)

// Person is one sample person. In Pipedrive they get Name, Emails (as typed,
// the first one primary) and Phone; in HubSpot a contact with the first
// email (as HubSpot stores it: trimmed and lower-cased), the first and last
// name and the phone. A person with no emails in HubSpot gets no email.
type Person struct {
	First, Last string
	Emails      []string
	Phone       string
	Where       Where
}

// Name is the full name, as Pipedrive holds it.
func (p Person) Name() string {
	if p.Last == "" {
		return p.First
	}
	return p.First + " " + p.Last
}

// People is the sample data of the demos: a small sales team's contacts.
// Most people are in both systems. The rest exercise what a real sync meets:
//
//   - some are only in Pipedrive (one-way and two-way create them in
//     HubSpot) and some only in HubSpot (two-way creates them in Pipedrive);
//   - Maria and Liam were typed with capitals or stray spaces in Pipedrive,
//     as HubSpot never stores them; they must match all the same;
//   - Sam has two addresses in Pipedrive;
//   - Chris has no email in Pipedrive and Riley none in HubSpot, so neither
//     can be matched or created;
//   - Noah was entered twice in Pipedrive, the second time in capitals.
//
// It returns a new slice on every call.
func People() []Person {
	return []Person{
		{"Ava", "Nguyen", []string{"ava.nguyen@northwind.example"}, "+1 415 555 0101", Both},
		{"Ben", "Carter", []string{"ben.carter@northwind.example"}, "+1 415 555 0102", Both},
		{"Maria", "Garcia", []string{"Maria.Garcia@Contoso.example"}, "+34 91 555 0103", Both},
		{"Liam", "O'Connor", []string{"  liam.oconnor@fabrikam.example "}, "+353 1 555 0104", Both},
		{"Sam", "Patel", []string{"sam.patel@tailspin.example", "sam@patel-family.example"},
			"+44 20 5550 0105", Both},
		{"Emma", "Schmidt", []string{"emma.schmidt@adventure-works.example"},
			"+49 30 5550106", Both},
		{"Lucas", "Rossi", []string{"lucas.rossi@wingtip.example"}, "+39 06 5550 0107", Both},
		{"Chloe", "Dubois", []string{"chloe.dubois@litware.example"}, "+33 1 55 50 01 08", Both},
		{"Hiro", "Tanaka", []string{"hiro.tanaka@proseware.example"}, "+81 3 5550 0109", Both},
		{"Grace", "Okafor", []string{"grace.okafor@woodgrove.example"}, "+234 1 555 0110", Both},
		{"Jonas", "Berg", []string{"jonas.berg@fourthcoffee.example"}, "+46 8 555 011 11", Both},
		{"Priya", "Sharma", []string{"priya.sharma@contoso.example"}, "+91 22 5550 0112", Both},
		{"Mateo", "Fernandez", []string{"mateo.fernandez@fabrikam.example"}, "", Both},
		{"Hannah", "Miller", []string{"hannah.miller@northwind.example"}, "+1 212 555 0114", Both},
		{"Oscar", "Lindqvist", []string{"oscar.lindqvist@tailspin.example"}, "", Both},
		{"Fatima", "Haddad", []string{"fatima.haddad@wingtip.example"}, "+971 4 555 0116", Both},
		{"Daniel", "Kowalski", []string{"daniel.kowalski@proseware.example"},
			"+48 22 555 0117", Both},
		{"Isabella", "Costa", []string{"isabella.costa@woodgrove.example"},
			"+55 11 5550 0118", Both},
		{"Ethan", "Wright", []string{"ethan.wright@litware.example"}, "+1 312 555 0119", Both},
		{"Sofia", "Ivanova", []string{"sofia.ivanova@adventure-works.example"}, "", Both},
		{"Kwame", "Mensah", []string{"kwame.mensah@fourthcoffee.example"},
			"+233 30 555 0121", Both},
		{"Lena", "Fischer", []string{"lena.fischer@contoso.example"}, "+49 89 5550122", Both},
		{"Diego", "Morales", []string{"diego.morales@northwind.example"}, "+52 55 5550 0123", Both},
		{"Aisha", "Khan", []string{"aisha.khan@fabrikam.example"}, "+92 21 555 0124", Both},
		{"Tom", "Baker", []string{"tom.baker@tailspin.example"}, "+44 161 555 0125", Both},
		{"Yuki", "Sato", []string{"yuki.sato@proseware.example"}, "+81 6 5550 0126", Both},
		{"Chris", "Walker", nil, "+1 617 555 0127", PipedriveOnly},
		{"Zoe", "Martin", []string{"Zoe.Martin@Litware.example"}, "+1 206 555 0128", PipedriveOnly},
		{"Noah", "Kim", []string{"noah.kim@adatum.example"}, "+82 2 555 0129", PipedriveOnly},
		{"Olivia", "Brown", []string{"olivia.brown@wingtip.example"}, "+61 2 5550 0130",
			PipedriveOnly},
		{"Ethan", "Davis", []string{"ethan.davis@woodgrove.example"}, "", PipedriveOnly},
		{"Noah", "Kim", []string{"Noah.Kim@Adatum.example"}, "", PipedriveOnly},
		{"Mia", "Wilson", []string{"mia.wilson@fourthcoffee.example"}, "+1 503 555 0133",
			PipedriveOnly},
		{"Elena", "Popescu", []string{"elena.popescu@adatum.example"}, "+40 21 555 0134",
			HubSpotOnly},
		{"Rafael", "Silva", []string{"rafael.silva@contoso.example"}, "+55 21 5550 0135",
			HubSpotOnly},
		{"Nora", "Jensen", []string{"nora.jensen@northwind.example"}, "", HubSpotOnly},
		{"Riley", "Quinn", nil, "+1 702 555 0137", HubSpotOnly},
	}
}

// PipedriveSeed returns the people stored in Pipedrive, in the fake's
// seed shape, in order.
func PipedriveSeed(people []Person) []pipedrivetest.Person {
	var out []pipedrivetest.Person
	for _, p := range people {
		if p.Where == HubSpotOnly {
			continue
		}
		pp := pipedrivetest.Person{Name: p.Name()}
		for i, e := range p.Emails {
			label := "work"
			if i > 0 {
				label = "home"
			}
			pp.Emails = append(pp.Emails, pipedrivetest.Contact{Value: e, Label: label,
				Primary: i == 0})
		}
		if p.Phone != "" {
			pp.Phones = []pipedrivetest.Contact{{Value: p.Phone, Label: "work", Primary: true}}
		}
		out = append(out, pp)
	}
	return out
}

// HubSpotSeed returns the people stored in HubSpot, in the fake's seed
// shape, in order.
func HubSpotSeed(people []Person) []hubspottest.Contact {
	var out []hubspottest.Contact
	for _, p := range people {
		if p.Where == PipedriveOnly {
			continue
		}
		props := map[string]string{"firstname": p.First, "lastname": p.Last}
		if len(p.Emails) > 0 {
			props["email"] = sync.NormalizeEmail(p.Emails[0])
		}
		if p.Phone != "" {
			props["phone"] = p.Phone
		}
		out = append(out, hubspottest.Contact{Properties: props})
	}
	return out
}
