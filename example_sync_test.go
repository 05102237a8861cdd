package sync_test

import (
	"context"
	"fmt"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// ExampleOneWay copies persons shaped like Pipedrive's into contacts shaped
// like HubSpot's, matching on email without regard to case.
func ExampleOneWay() {
	ctx := context.Background()
	persons, contacts := memory.New(), memory.New()
	persons.Put(
		sync.Item{"name": "Dana Reyes", "email": []any{map[string]any{"value": "Dana@Example.com"}}},
		sync.Item{"name": "Eli Stone", "email": []any{map[string]any{"value": "eli@example.com"}}},
		sync.Item{"name": "No Email"},
	)
	contacts.Put(sync.Item{"properties": map[string]any{
		"email": "eli@example.com", "firstname": "Eli", "lastname": "Stone",
	}})

	report, err := sync.OneWay(ctx, persons, contacts, sync.Options{
		SourceKey:  "email[0].value",
		TargetKey:  "properties.email",
		Normalize:  sync.NormalizeEmail,
		SourceName: "pipedrive",
		TargetName: "hubspot",
		Map: func(p sync.Item) (sync.Item, error) {
			email, _ := sync.Lookup(p, "email[0].value")
			return sync.Item{"properties": map[string]any{
				"email": email, "firstname": p["name"],
			}}, nil
		},
	})
	if err != nil {
		fmt.Println("sync failed:", err)
	}

	fmt.Println(report)
	for _, e := range report.Problems() {
		fmt.Println(e)
	}
	for _, c := range contacts.Items() {
		fmt.Println(c["id"], c["properties"].(map[string]any)["email"])
	}
	// Output:
	// created 1, updated 0, unchanged 1, skipped 1 (missing key 1), failed 0
	// pipedrive→hubspot record 2: skipped (missing key: no value at "email[0].value")
	// 1 eli@example.com
	// 2 Dana@Example.com
}

// ExampleOneWay_upsert updates matched records whose mapped fields differ,
// and previews the run first with DryRun.
func ExampleOneWay_upsert() {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	src.Put(
		sync.Item{"email": "ana@example.com", "phone": "555-0101"},
		sync.Item{"email": "bo@example.com", "phone": "555-0102"},
	)
	dst.Put(
		sync.Item{"email": "ana@example.com", "phone": "555-0199"},
		sync.Item{"email": "bo@example.com", "phone": "555-0102"},
	)
	opts := sync.Options{
		SourceKey: "email",
		Upsert:    true,
		DryRun:    true,
		Map: func(s sync.Item) (sync.Item, error) {
			return sync.Item{"email": s["email"], "phone": s["phone"]}, nil
		},
	}

	plan, _ := sync.OneWay(ctx, src, dst, opts)
	fmt.Println(plan)

	opts.DryRun = false
	done, _ := sync.OneWay(ctx, src, dst, opts)
	fmt.Println(done)
	fmt.Println(dst.Items()[0]["phone"])
	// Output:
	// would create 0, would update 1, unchanged 1, skipped 0, failed 0
	// created 0, updated 1, unchanged 1, skipped 0, failed 0
	// 555-0101
}

// ExampleTwoWay gives each side the records only the other has; running it
// again writes nothing.
func ExampleTwoWay() {
	ctx := context.Background()
	crm, shop := memory.New(), memory.New()
	crm.Put(sync.Item{"email": "ana@example.com"}, sync.Item{"email": "bo@example.com"})
	shop.Put(sync.Item{"mail": "BO@example.com"}, sync.Item{"mail": "cy@example.com"})
	opts := sync.TwoWayOptions{
		AKey: "email", BKey: "mail", Normalize: sync.NormalizeEmail,
		AName: "crm", BName: "shop",
		AToB: func(c sync.Item) (sync.Item, error) { return sync.Item{"mail": c["email"]}, nil },
		BToA: func(s sync.Item) (sync.Item, error) { return sync.Item{"email": s["mail"]}, nil },
	}

	first, _ := sync.TwoWay(ctx, crm, shop, opts)
	second, _ := sync.TwoWay(ctx, crm, shop, opts)

	fmt.Println(first)
	fmt.Println(second)
	// Output:
	// crm→shop: created 1, updated 0, unchanged 1, skipped 0, failed 0; shop→crm: created 1, updated 0, unchanged 1, skipped 0, failed 0
	// crm→shop: created 0, updated 0, unchanged 3, skipped 0, failed 0; shop→crm: created 0, updated 0, unchanged 3, skipped 0, failed 0
}

// ExampleEachKey matches a person through any of their email addresses.
func ExampleEachKey() {
	keys, err := sync.EachKey("emails", "value")
	if err != nil {
		fmt.Println(err)
		return
	}
	person := sync.Item{"emails": []any{
		map[string]any{"value": "Dana@Example.com", "primary": true},
		map[string]any{"value": "dana.reyes@example.org"},
	}}

	fmt.Println(keys.Strings(person, sync.NormalizeEmail))
	// Output:
	// [dana@example.com dana.reyes@example.org]
}
