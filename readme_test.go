package sync_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMESnippetsCompile keeps the README honest: every Go snippet in it
// must appear, line for line (indentation aside), in a Go file of this
// repository, where the compiler and an Example or test check it.
func TestREADMESnippetsCompile(t *testing.T) {
	t.Parallel()

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, snippets, "the README has no Go snippets")

	sources := normalizedGoSources(t)
	for _, m := range snippets {
		snippet := normalizeLines(m[1])
		found := false
		for _, src := range sources {
			if strings.Contains(src, snippet) {
				found = true
				break
			}
		}
		require.True(t, found, "README snippet appears in no Go file:\n%s", m[1])
	}
}

// normalizedGoSources returns every Go file of the repository with
// normalizeLines applied.
func normalizedGoSources(t *testing.T) []string {
	t.Helper()

	var sources []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources = append(sources, normalizeLines(string(b)))
		return nil
	})
	require.NoError(t, err)
	return sources
}

// normalizeLines trims every line and drops blank ones, so that a snippet
// matches its source whatever its indentation.
func normalizeLines(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
