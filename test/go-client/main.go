// go-client decodes market-runtime's answers as a Go client of the market does, with the structs of wire.go,
// and checks that Go's re-marshal of what it decoded says the same as our JSON.
//
//	go run . state=answer.json change=event.json ...
//
// Each argument is kind=path; the kinds: state (a whole /state answer: {success, message, data}), snapshot
// (its data alone, as the change stream's snapshot event), change (a change event's data), summary (a
// ?view=summary event's data). For each file:
//   - decoding it into the structs must succeed (unknown keys are allowed, as for any Go client);
//   - every key Go's re-marshal writes must be in ours with an equal value (times as instants, numbers as
//     numbers), and every key of ours that the structs declare must be in Go's re-marshal (an omitempty key we
//     send with its zero value is a failure: Go would leave it out). Keys the structs do not declare (our
//     additive keys) are skipped and listed.
//
// Prints one line per file and one per mismatch, with its JSON path; exits 1 on any failure, 2 on bad usage.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var kinds = map[string]func() interface{}{
	"state":    func() interface{} { return new(Envelope) },
	"snapshot": func() interface{} { return new(RuntimeSnapshot) },
	"change":   func() interface{} { return new(ChangeEvent) },
	"summary":  func() interface{} { return new(SummaryEvent) },
}

func main() {
	if len(os.Args) < 2 {
		usage("no files given")
	}
	failed := 0
	for _, arg := range os.Args[1:] {
		kind, path, ok := strings.Cut(arg, "=")
		if !ok || kinds[kind] == nil {
			usage(fmt.Sprintf("bad argument %q", arg))
		}
		if !checkFile(kind, path) {
			failed++
		}
	}
	if failed > 0 {
		fmt.Printf("%d of %d files do not decode as Go sends them\n", failed, len(os.Args)-1)
		os.Exit(1)
	}
	fmt.Printf("all %d files decode and re-marshal as Go sends them\n", len(os.Args)-1)
}

func usage(why string) {
	fmt.Fprintf(os.Stderr, "%s\nusage: go-client kind=file.json ... (kinds: state, snapshot, change, summary)\n", why)
	os.Exit(2)
}

// checkFile decodes one file, compares, prints its verdict; true when it fits.
func checkFile(kind, path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Printf("FAIL %s (%s): %v\n", path, kind, err)
		return false
	}
	target := kinds[kind]()
	if err := json.Unmarshal(raw, target); err != nil {
		at := locate(reflect.TypeOf(target), raw, "")
		fmt.Printf("FAIL %s (%s): a Go client cannot decode it: at %s: %v\n", path, kind, orRoot(at), err)
		return false
	}
	remarshalled, err := json.Marshal(target)
	if err != nil {
		fmt.Printf("FAIL %s (%s): Go cannot re-marshal it: %v\n", path, kind, err)
		return false
	}
	c := &comparer{additive: map[string]bool{}}
	c.walk("", reflect.TypeOf(target), generic(raw), generic(remarshalled))
	if len(c.problems) > 0 {
		fmt.Printf("FAIL %s (%s): %d mismatch(es) with Go's re-marshal\n", path, kind, len(c.problems))
		for _, p := range c.problems {
			fmt.Printf("  %s\n", p)
		}
		return false
	}
	fmt.Printf("ok   %s (%s): %d values equal to Go's re-marshal; additive keys skipped: %s\n",
		path, kind, c.compared, strings.Join(sortedKeys(c.additive), ", "))
	return true
}

// generic decodes JSON that is known to be valid, numbers kept as written.
func generic(raw []byte) interface{} {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

var timeType = reflect.TypeOf(time.Time{})

// comparer walks our JSON and Go's re-marshal side by side along the Go type.
type comparer struct {
	problems []string
	compared int
	additive map[string]bool // path patterns of our keys the structs do not declare
}

func (c *comparer) fail(path, format string, args ...interface{}) {
	c.problems = append(c.problems, orRoot(path)+": "+fmt.Sprintf(format, args...))
}

func (c *comparer) walk(path string, t reflect.Type, ours, gos interface{}) {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		c.compareTime(path, ours, gos)
	case t.Kind() == reflect.Struct:
		c.compareStruct(path, t, ours, gos)
	case t.Kind() == reflect.Map:
		c.compareMap(path, t.Elem(), ours, gos)
	case t.Kind() == reflect.Slice:
		c.compareSlice(path, t.Elem(), ours, gos)
	default: // strings, numbers, booleans, interface{} (free maps): the same JSON value
		c.compareValue(path, ours, gos)
	}
}

func (c *comparer) compareStruct(path string, t reflect.Type, ours, gos interface{}) {
	o, g, ok := bothObjects(ours, gos)
	if !ok {
		c.compareValue(path, ours, gos)
		return
	}
	declared := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, omitempty := jsonTag(t.Field(i))
		declared[name] = true
		at := joinKey(path, name)
		ov, inOurs := o[name]
		gv, inGo := g[name]
		switch {
		case inGo && !inOurs:
			c.fail(at, "missing: Go writes %s, ours has no such key", show(gv))
		case inOurs && !inGo && omitempty:
			c.fail(at, "ours sends %s, Go leaves the key out (omitempty: Go's zero value)", show(ov))
		case inOurs && !inGo:
			c.fail(at, "ours sends %s, Go's re-marshal has no such key", show(ov))
		case inOurs && inGo:
			c.walk(at, t.Field(i).Type, ov, gv)
		}
	}
	for name := range o {
		if !declared[name] {
			c.additive[pattern(joinKey(path, name))] = true
		}
	}
}

func (c *comparer) compareMap(path string, elem reflect.Type, ours, gos interface{}) {
	o, g, ok := bothObjects(ours, gos)
	if !ok {
		c.compareValue(path, ours, gos)
		return
	}
	for _, k := range sortedKeys(o, g) {
		ov, inOurs := o[k]
		gv, inGo := g[k]
		if inOurs != inGo {
			c.fail(joinIndex(path, strconv.Quote(k)), "ours %s, Go's re-marshal %s", showMaybe(ov, inOurs), showMaybe(gv, inGo))
			continue
		}
		c.walk(joinIndex(path, strconv.Quote(k)), elem, ov, gv)
	}
}

// bothObjects: ours and Go's re-marshal as JSON objects, when both are.
func bothObjects(ours, gos interface{}) (map[string]interface{}, map[string]interface{}, bool) {
	o, ok1 := ours.(map[string]interface{})
	g, ok2 := gos.(map[string]interface{})
	return o, g, ok1 && ok2
}

func (c *comparer) compareSlice(path string, elem reflect.Type, ours, gos interface{}) {
	o, ok1 := ours.([]interface{})
	g, ok2 := gos.([]interface{})
	if !ok1 || !ok2 || len(o) != len(g) {
		c.compareValue(path, ours, gos)
		return
	}
	for i := range o {
		c.walk(joinIndex(path, strconv.Itoa(i)), elem, o[i], g[i])
	}
}

// compareTime: both RFC 3339, the same instant (Go re-formats: "+00:00" becomes "Z", trailing zeros go).
func (c *comparer) compareTime(path string, ours, gos interface{}) {
	c.compared++
	ourText, ok1 := ours.(string)
	goText, ok2 := gos.(string)
	if !ok1 || !ok2 {
		c.fail(path, "a time: ours %s, Go's re-marshal %s", show(ours), show(gos))
		return
	}
	ourTime, err1 := time.Parse(time.RFC3339Nano, ourText)
	goTime, err2 := time.Parse(time.RFC3339Nano, goText)
	if err1 != nil || err2 != nil || !ourTime.Equal(goTime) {
		c.fail(path, "a time: ours %q, Go's re-marshal %q (not the same instant)", ourText, goText)
	}
}

// compareValue: the same JSON value, numbers compared as numbers, objects with exactly the same keys.
func (c *comparer) compareValue(path string, ours, gos interface{}) {
	c.compared++
	if !sameValue(ours, gos) {
		c.fail(path, "ours %s, Go's re-marshal %s", show(ours), show(gos))
	}
}

func sameValue(a, b interface{}) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && sameNumber(x, y)
	case map[string]interface{}:
		y, ok := b.(map[string]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, found := y[k]; !found || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []interface{}:
		y, ok := b.([]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

func sameNumber(a, b json.Number) bool {
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	if !ok1 || !ok2 {
		return a == b
	}
	return x.Cmp(y) == 0
}

// locate finds the deepest JSON path whose value alone does not decode into its Go type.
func locate(t reflect.Type, raw json.RawMessage, path string) string {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	fails := func(t reflect.Type, v json.RawMessage) bool {
		return json.Unmarshal(v, reflect.New(t).Interface()) != nil
	}
	switch {
	case t == timeType:
	case t.Kind() == reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path
		}
		for i := 0; i < t.NumField(); i++ {
			name, _ := jsonTag(t.Field(i))
			if v, ok := obj[name]; ok && fails(t.Field(i).Type, v) {
				return locate(t.Field(i).Type, v, joinKey(path, name))
			}
		}
	case t.Kind() == reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path
		}
		for _, k := range sortedKeys(obj) {
			if fails(t.Elem(), obj[k]) {
				return locate(t.Elem(), obj[k], joinIndex(path, strconv.Quote(k)))
			}
		}
	case t.Kind() == reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return path
		}
		for i, v := range items {
			if fails(t.Elem(), v) {
				return locate(t.Elem(), v, joinIndex(path, strconv.Itoa(i)))
			}
		}
	}
	return path
}

// jsonTag: the key a struct field is written under, and whether it has omitempty.
func jsonTag(f reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	return name, opts == "omitempty"
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path, index string) string { return path + "[" + index + "]" }

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

var (
	mapKey   = regexp.MustCompile(`\["(?:[^"\\]|\\.)*"\]`)
	sliceIdx = regexp.MustCompile(`\[\d+\]`)
)

// pattern: a path with its map keys and indexes left out, to list additive keys once.
func pattern(path string) string {
	return sliceIdx.ReplaceAllString(mapKey.ReplaceAllString(path, "[*]"), "[]")
}

func show(v interface{}) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func showMaybe(v interface{}, present bool) string {
	if !present {
		return "(no such key)"
	}
	return show(v)
}

// sortedKeys: the union of the maps' keys, sorted.
func sortedKeys[V any](maps ...map[string]V) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
