package fakeserver_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/keysync/sync/internal/fakeserver"
)

func ExampleLog() {
	var log fakeserver.Log[string]
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, path := range []string{"/a", "/b", "/a", "/a"} {
		at := start.Add(time.Duration(i) * 400 * time.Millisecond)
		idx := log.Add(fakeserver.Entry[string]{Method: http.MethodGet, Path: path, At: at})
		log.SetStatus(idx, http.StatusOK)
	}
	fmt.Println(log.Count(http.MethodGet, "/a"))
	fmt.Println(log.MaxInWindow(time.Second))
	// Output:
	// 3
	// 3
}
