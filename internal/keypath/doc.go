// Package keypath implements the parsing and property access behind the root
// package's Lookup and ParseKeyPath: a faithful emulation of lodash 4.17's
// castPath, stringToPath and baseGet over decoded JSON values.
//
// # Lodash algorithm
//
// lodash decides first whether the whole path string is a single key (isKey):
// it is when it has no '.' and no bracket pair, or when the object itself
// has the path as an own key. Otherwise stringToPath splits it with the
// global regular expression
//
//	[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))
//
// applied through String.prototype.replace, which skips characters where no
// alternative matches and advances one position after an empty match. A
// leading '.' first contributes an empty key. Quoted keys lose their escaping
// backslashes (/\\(\\)?/g replaced by "$1"). [Scanner] reproduces that regular
// expression by hand, since Go's regexp has neither backreferences nor
// lookahead. [IsDeep] is lodash's reIsDeepProp test.
//
// # Values
//
// [Prop] is JavaScript property access on JSON data: object keys, array
// indexes and length, string indexes (UTF-16 code units) and length. [Get]
// combines it with the scanner into lodash's _.get; [Walk] does the same for
// keys split in advance. [Compile] prepares a [Path] for reading many
// values: its [Path.GetEach] reads a block of objects one key at a time, so
// that the memory reads for different objects overlap.
//
// # Strict form
//
// [Parse] is the strict grammar used for configuration: it accepts only paths
// whose meaning is obvious and reports the byte offset of the first problem.
// For every path it accepts, the keys it returns equal [Split]'s.
package keypath
