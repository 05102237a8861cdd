package sync_test

import (
	"encoding/json"
	"fmt"

	"github.com/keysync/sync"
)

// printMergeResult prints items as one line of JSON (keys sorted, as
// encoding/json writes maps).
func printMergeResult(items []sync.Item, err error) {
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	b, _ := json.Marshal(items)
	fmt.Println(string(b))
}

// The persons of a Pipedrive export that no HubSpot contact has yet: what a
// one-way sync from Pipedrive to HubSpot must create.
func ExampleRemoveKeyMatches() {
	persons := []sync.Item{
		{"id": 1, "name": "Ann Lee", "email": []any{map[string]any{"value": "ann@example.com"}}},
		{"id": 2, "name": "Bo Chan", "email": []any{map[string]any{"value": "bo@example.com"}}},
	}
	contacts := []sync.Item{
		{"vid": 11, "identity-profiles": []any{map[string]any{
			"identities": []any{map[string]any{"type": "EMAIL", "value": "ann@example.com"}},
		}}},
	}

	// The Pipedrive persons that no HubSpot contact has yet: what a one-way sync creates.
	toCreate, err := sync.RemoveKeyMatches(persons, contacts,
		"email[0].value", "identity-profiles[0].identities[0].value")
	printMergeResult(toCreate, err)
	// Output:
	// [{"email":[{"value":"bo@example.com"}],"id":2,"name":"Bo Chan"}]
}

func ExampleKeepKeyMatches() {
	in1 := []sync.Item{{"id": 1}, {"id": 2}, {"id": 3}}
	in2 := []sync.Item{{"ref": "1"}, {"ref": 3}}

	// Keys compare as JavaScript strings: the number 1 matches "1".
	printMergeResult(sync.KeepKeyMatches(in1, in2, "id", "ref"))
	// Output:
	// [{"id":1},{"id":3}]
}

func ExampleMergeByKey() {
	persons := []sync.Item{
		{"id": 1, "name": "Ann", "phone": ""},
		{"id": 2, "name": "Bo"},
		{"name": "no id: dropped"},
	}
	extra := []sync.Item{{"id": 1, "name": "Ann Lee", "phone": "555-0100", "vip": true}}

	printMergeResult(sync.MergeByKey(persons, extra, "id", "id", sync.OverwriteBlank))
	// Output:
	// [{"id":1,"name":"Ann","phone":"555-0100","vip":true},{"id":2,"name":"Bo"}]
}

func ExampleMergeByIndex() {
	in1 := []sync.Item{{"a": 1}, {"a": 2}, {"a": 3}}
	in2 := []sync.Item{{"b": 1}}

	printMergeResult(sync.MergeByIndex(in1, in2, sync.JoinLeft))
	printMergeResult(sync.MergeByIndex(in1, in2, sync.JoinInner))
	// Output:
	// [{"a":1,"b":1},{"a":2},{"a":3}]
	// [{"a":1,"b":1}]
}

func ExampleMultiplex() {
	printMergeResult(sync.Multiplex(
		[]sync.Item{{"size": "S"}, {"size": "M"}},
		[]sync.Item{{"color": "red"}, {"color": "blue"}},
	), nil)
	// Output:
	// [{"color":"red","size":"S"},{"color":"blue","size":"S"},{"color":"red","size":"M"},{"color":"blue","size":"M"}]
}

func ExampleAppend() {
	printMergeResult(sync.Append([]sync.Item{{"a": 1}}, []sync.Item{{"b": 2}}), nil)
	// Output:
	// [{"a":1},{"b":2}]
}

func ExamplePassThrough() {
	printMergeResult(sync.PassThrough([]sync.Item{{"a": 1}}, []sync.Item{{"b": 2}}, sync.OutputInput2))
	// Output:
	// [{"b":2}]
}

func ExampleWait() {
	printMergeResult(sync.Wait([]sync.Item{{"a": 1}}, []sync.Item{{"b": 2}}))
	printMergeResult(sync.Wait(nil, nil)) // input 1 did not run: n8n's node fails
	// Output:
	// [{}]
	// error: sync: merge wait: input 1: Cannot read properties of undefined (reading 'length')
}

// Merge takes the parameters of an n8n Merge node (version 1) as they appear
// in a workflow's JSON.
func ExampleMerge() {
	var params struct {
		Mode          sync.Mode `json:"mode"`
		PropertyName1 string    `json:"propertyName1"`
		PropertyName2 string    `json:"propertyName2"`
	}
	node := `{"mode": "removeKeyMatches", "propertyName1": "email",
		"propertyName2": "properties.email"}`
	if err := json.Unmarshal([]byte(node), &params); err != nil {
		fmt.Println(err)
		return
	}
	opts := sync.MergeOptions{
		Mode: params.Mode,
		Key1: params.PropertyName1,
		Key2: params.PropertyName2,
	}
	in1 := []sync.Item{{"email": "ann@example.com"}, {"email": "bo@example.com"}}
	in2 := []sync.Item{{"properties": map[string]any{"email": "bo@example.com"}}}

	printMergeResult(sync.Merge(in1, in2, opts))

	_, err := sync.Merge(in1, in2, sync.MergeOptions{Mode: "combine"})
	fmt.Println(err)
	// Output:
	// [{"email":"ann@example.com"}]
	// sync: unknown merge option Mode "combine"
}
