package keypath_test

import (
	"fmt"

	"github.com/keysync/sync/internal/keypath"
)

func ExampleSplit() {
	fmt.Printf("%q\n", keypath.Split("email[0].value"))
	fmt.Printf("%q\n", keypath.Split(`a['b.c']["d\"e"]`))
	// lodash's quirks: empty keys, and unquoted brackets split on '.'.
	fmt.Printf("%q\n", keypath.Split("a..b"))
	fmt.Printf("%q\n", keypath.Split("a[b.c]"))
	// Output:
	// ["email" "0" "value"]
	// ["a" "b.c" "d\"e"]
	// ["a" "" "b"]
	// ["a" "b" "c"]
}

func ExampleParse() {
	keys, err := keypath.Parse("identity-profiles[0].identities[0].value")
	fmt.Printf("%q %v\n", keys, err)

	_, err = keypath.Parse("a[b.c]")
	fmt.Println(err.Offset, err.Reason)
	// Output:
	// ["identity-profiles" "0" "identities" "0" "value"] <nil>
	// 3 '.' inside unquoted brackets splits the key; write ['...'] to quote it
}

func ExampleGet() {
	data := map[string]any{"name": "😀 Ada", "a.b": 1, "a": map[string]any{"b": 2}}

	fmt.Println(keypath.Get(data, "name.length"))
	fmt.Println(keypath.Get(data, "a.b"))
	fmt.Println(keypath.Get(data, "a['b']"))
	// Output:
	// 6 true
	// 1 true
	// 2 true
}
