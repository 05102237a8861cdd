package pipedrivetest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The doc checks report a missing name with assert.True rather than
// assert.Contains, which would print the whole package comment.

// source is what the doc checks read from the package's source files.
type source struct {
	doc      string   // the package comment
	options  []string // exported functions that return an Option
	faults   []string // exported Server methods declared in faults.go
	tokenDoc string   // the doc comment of Server.Token
}

func readSource(t *testing.T) source {
	t.Helper()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var src source
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		if f.Doc != nil {
			src.doc += f.Doc.Text()
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				src.addFunc(name, d)
			case *ast.GenDecl:
				src.addTokenDoc(d)
			}
		}
	}
	return src
}

func (s *source) addFunc(file string, d *ast.FuncDecl) {
	switch {
	case !d.Name.IsExported():
	case d.Recv != nil && file == "faults.go":
		s.faults = append(s.faults, d.Name.Name)
	case d.Recv == nil && d.Type.Results != nil && len(d.Type.Results.List) == 1:
		if id, ok := d.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == "Option" {
			s.options = append(s.options, d.Name.Name)
		}
	}
}

func (s *source) addTokenDoc(d *ast.GenDecl) {
	for _, spec := range d.Specs {
		ts, ok := spec.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Server" {
			continue
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Fields.List {
			if len(f.Names) == 1 && f.Names[0].Name == "Token" && f.Doc != nil {
				s.tokenDoc = f.Doc.Text()
			}
		}
	}
}

// section returns the text of the package comment's "# title" section.
func section(doc, title string) string {
	_, rest, ok := strings.Cut(doc, "# "+title+"\n")
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "\n# ")
	return text
}

func TestDoc_listsEveryOptionAndFault(t *testing.T) {
	t.Parallel()
	src := readSource(t)
	require.NotEmpty(t, src.options, "options found")
	require.Contains(t, src.faults, "ExpireCursorNext", "faults found")

	for _, o := range src.options {
		assert.True(t, strings.Contains(src.doc, "["+o+"]"), "the package doc lists option %s", o)
	}
	faults := section(src.doc, "Fault injection")
	require.NotEmpty(t, faults, "the package doc has a Fault injection section")
	for _, f := range src.faults {
		assert.True(t, strings.Contains(faults, "[Server."+f+"]"), "Fault injection lists %s", f)
	}
	for _, o := range []string{"WithDeletedVisible", "WithRejectedCounted"} {
		assert.True(t, strings.Contains(faults, "["+o+"]"), "Fault injection lists %s", o)
	}
}

func TestDoc_tokenIsATestTokenInPlainText(t *testing.T) {
	t.Parallel()
	doc := readSource(t).tokenDoc
	assert.Contains(t, doc, "test token", "Server.Token says it is the fake's test token")
	assert.Contains(t, doc, "plain text", "Server.Token says it prints in plain text")
}
