package keypath

// Path is a path compiled once by [Compile] for reading many values: lodash's
// isKey decision and stringToPath split are made in advance, and each key
// that is a canonical array index is parsed in advance too. The zero Path
// finds nothing. A Path is immutable and safe for concurrent use.
type Path struct {
	raw   string
	deep  bool // IsDeep(raw): raw may still be one key of the top-level object
	steps []step
}

// step is one key of a Path.
type step struct {
	key string
	// index is key as a canonical array index, or -1 when key is not one or
	// is too large for any array to have.
	index int
}

// Compile returns the [Path] for path, which may be any string: for every v,
// Compile(path).Get(v) returns exactly what Get(v, path) returns.
func Compile(path string) Path {
	keys := []string{path}
	deep := IsDeep(path)
	if deep {
		keys = Split(path)
	}
	p := Path{raw: path, deep: deep, steps: make([]step, len(keys))}
	for i, k := range keys {
		p.steps[i] = step{key: k, index: -1}
		if n, ok := Index(k, maxIndex); ok {
			p.steps[i].index = n
		}
	}
	return p
}

// maxIndex bounds the indexes a Path parses in advance: no slice can be that
// long, and Index cannot overflow below it.
const maxIndex = int(^uint(0)>>1) / 16

// String returns the path as it was compiled.
func (p *Path) String() string { return p.raw }

// Get is [Get] for the compiled path. It allocates only where Get does, when
// boxing a computed string character or large length.
func (p *Path) Get(v any) (any, bool) {
	if v == nil || p.steps == nil {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if p.deep {
		// lodash's isKey: the whole path is one key of the object itself.
		// Arrays, strings and prototype properties have no key with '.' or
		// brackets, so only an object can hold it.
		if isMap {
			if val, ok := m[p.raw]; ok {
				return val, true
			}
		} else if val, ok := OwnKey(v, p.raw); ok {
			return val, true
		}
	}
	if len(p.steps) == 0 {
		return nil, false
	}
	var ok bool
	cur := v
	for i := range p.steps {
		if cur, ok = p.steps[i].prop(cur); !ok {
			return nil, false
		}
	}
	return cur, true
}

// prop is [Prop] with the key's index parsed in advance.
func (s *step) prop(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		val, ok := x[s.key]
		return val, ok
	case []any:
		switch {
		case s.index >= 0 && s.index < len(x):
			return x[s.index], true
		case s.index < 0 && s.key == "length":
			return len(x), true
		}
		return nil, false
	case nil:
		return nil, false
	}
	return Prop(v, s.key)
}

// GetEach sets vals[i], found[i] = p.Get(items[i]) for every item. It reads
// the items one key at a time, all items for one key before any for the
// next, so that the memory reads for different items overlap instead of
// waiting on each other; use it on blocks of a few dozen items. vals and
// found must be at least as long as items.
func (p *Path) GetEach(items []map[string]any, vals []any, found []bool) {
	vals, found = vals[:len(items)], found[:len(items)]
	if p.steps == nil {
		clear(vals)
		clear(found)
		return
	}
	for lo := 0; lo < len(items); lo += 64 {
		hi := min(lo+64, len(items))
		p.getEach(items[lo:hi], vals[lo:hi], found[lo:hi])
	}
}

// getEach is GetEach for at most 64 items.
func (p *Path) getEach(items []map[string]any, vals []any, found []bool) {
	var whole uint64 // items holding the whole path as one key
	switch {
	case len(p.steps) == 0: // deep, but no keys: only the whole path can match
		for i, m := range items {
			vals[i], found[i] = m[p.raw]
		}
		return
	case p.deep:
		first := p.steps[0].key
		for i, m := range items {
			if v, ok := m[p.raw]; ok {
				vals[i], found[i] = v, true
				whole |= 1 << i
				continue
			}
			vals[i], found[i] = m[first]
		}
	default:
		first := p.steps[0].key
		for i, m := range items {
			vals[i], found[i] = m[first]
		}
	}
	for k := 1; k < len(p.steps); k++ {
		s := &p.steps[k]
		for i := range items {
			if found[i] && whole&(1<<i) == 0 {
				vals[i], found[i] = s.prop(vals[i])
			}
		}
	}
}
