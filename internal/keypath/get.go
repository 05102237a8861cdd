package keypath

// Get is lodash 4.17's _.get(v, path) for decoded JSON, reporting false
// where lodash returns undefined. It streams the keys of path through a
// [Scanner], so it allocates nothing for paths without escaped quotes.
func Get(v any, path string) (any, bool) {
	if v == nil {
		return nil, false
	}
	if !IsDeep(path) {
		return Prop(v, path)
	}
	if val, ok := OwnKey(v, path); ok {
		return val, true
	}
	sc := NewScanner(path)
	cur, n := v, 0
	for {
		key, quoted, ok := sc.Next()
		if !ok {
			if n == 0 {
				return nil, false
			}
			return cur, true
		}
		if cur == nil {
			return nil, false
		}
		if quoted {
			key = Unescape(key)
		}
		if cur, ok = Prop(cur, key); !ok {
			return nil, false
		}
		n++
	}
}

// Walk is [Get] for a path split in advance: raw is the path as written,
// keys its keys as [Split] returns them (or raw alone when [IsDeep] is
// false), and deep is IsDeep(raw). An empty keys finds nothing.
func Walk(v any, raw string, keys []string, deep bool) (any, bool) {
	if len(keys) == 0 || v == nil {
		return nil, false
	}
	if deep {
		if val, ok := OwnKey(v, raw); ok {
			return val, true
		}
	}
	cur := v
	for _, key := range keys {
		if cur == nil {
			return nil, false
		}
		var ok bool
		if cur, ok = Prop(cur, key); !ok {
			return nil, false
		}
	}
	return cur, true
}
