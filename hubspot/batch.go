package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/keysync/sync"
)

// MaxBatchInputs is the most inputs HubSpot accepts in one batch call. The
// batch methods split longer slices into several calls.
const MaxBatchInputs = 100

// Input is one record of a batch write.
type Input struct {
	// ID names the record: the contact id, or, when IDProperty is set, the
	// value of that unique property (an email address for upserts).
	ID string
	// IDProperty names the unique property ID holds, such as "email"; ""
	// means ID is the contact id. [Client.BatchUpsert] defaults it to
	// "email".
	IDProperty string
	// Properties are the values to write; "" clears a property.
	Properties map[string]string
	// ObjectWriteTraceID labels a write input so that HubSpot reports its
	// failure alone in a multi-status response. [Client.BatchCreate],
	// [Client.BatchUpdate] and [Client.BatchUpsert] set one when it is
	// empty.
	ObjectWriteTraceID string
}

// Result is the outcome of one input of a batch call.
type Result struct {
	// Item is the record as HubSpot returned it, in the CRM objects API
	// shape; nil when Err is set.
	Item sync.Item
	// New reports whether an upsert created the record.
	New bool
	// Err is nil on success, else this input's error, usually an
	// [*ItemError].
	Err error
}

// Batch operations, as they appear in the endpoint paths.
const (
	opRead    = "read"
	opCreate  = "create"
	opUpdate  = "update"
	opUpsert  = "upsert"
	opArchive = "archive"
)

// wireInput is an input as the batch endpoints take it.
type wireInput struct {
	ID                 string            `json:"id,omitempty"`
	IDProperty         string            `json:"idProperty,omitempty"`
	Properties         map[string]string `json:"properties,omitempty"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
}

type batchRequest struct {
	Inputs     []wireInput `json:"inputs"`
	Properties []string    `json:"properties,omitempty"`
	IDProperty string      `json:"idProperty,omitempty"`
}

type batchResponse struct {
	Status    string       `json:"status"`
	Results   []sync.Item  `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []batchError `json:"errors"`
}

type batchError struct {
	Status             string          `json:"status"`
	Category           string          `json:"category"`
	SubCategory        string          `json:"subCategory"`
	Message            string          `json:"message"`
	Context            envelopeContext `json:"context"`
	ObjectWriteTraceID string          `json:"objectWriteTraceId"`
}

func (e batchError) itemError() *ItemError {
	id, _ := ExistingID(e.Message)
	return &ItemError{Category: e.Category, Message: e.Message, ExistingID: id}
}

// batchKey is what identifies the record an input is for: its email for
// creates ("" without one), else its id, lower-cased when it is a property
// value such as an email, which HubSpot matches case-insensitively.
func batchKey(op string, in Input) string {
	switch {
	case op == opCreate:
		if email := in.Properties["email"]; email != "" {
			return "email:" + sync.NormalizeEmail(email)
		}
		return ""
	case in.IDProperty != "":
		return "p:" + strings.ToLower(in.ID)
	default:
		return "id:" + in.ID
	}
}

// createWithoutEmail is the chunk key of every create without an email.
const createWithoutEmail = "create:no-email"

// chunkKey is what two inputs of one call must not share: the key of their
// record (see batchKey) or, for creates without an email, createWithoutEmail.
// A call then holds at most one create without an email, and the one
// result without an email in HubSpot's answer, which promises no order, is
// certainly that input's.
func chunkKey(op string, in Input) string {
	if k := batchKey(op, in); k != "" || op != opCreate {
		return k
	}
	return createWithoutEmail
}

// planChunks groups input indices into calls of at most MaxBatchInputs in
// which no chunk key repeats. A repeated key goes to a later call, so
// writes to the same record apply in input order.
func planChunks(op string, inputs []Input, idx []int) [][]int {
	var chunks [][]int
	var seen []map[string]bool
	for _, i := range idx {
		k := chunkKey(op, inputs[i])
		c := 0
		for c < len(chunks) && (len(chunks[c]) == MaxBatchInputs || k != "" && seen[c][k]) {
			c++
		}
		if c == len(chunks) {
			chunks = append(chunks, nil)
			seen = append(seen, map[string]bool{})
		}
		chunks[c] = append(chunks[c], i)
		if k != "" {
			seen[c][k] = true
		}
	}
	return chunks
}

// inputIndex finds the input that a result or error of one call belongs to.
type inputIndex struct {
	byKey map[string][]int
	taken []bool
}

func newInputIndex(op string, inputs []Input) *inputIndex {
	x := &inputIndex{byKey: map[string][]int{}, taken: make([]bool, len(inputs))}
	for i, in := range inputs {
		if in.ObjectWriteTraceID != "" {
			x.add("trace:"+in.ObjectWriteTraceID, i)
		}
		if k := batchKey(op, in); k != "" {
			x.add(k, i)
		}
	}
	return x
}

func (x *inputIndex) add(key string, i int) { x.byKey[key] = append(x.byKey[key], i) }

// take returns the first input not yet taken that has one of keys.
func (x *inputIndex) take(keys ...string) (int, bool) {
	for _, k := range keys {
		for _, i := range x.byKey[k] {
			if !x.taken[i] {
				x.taken[i] = true
				return i, true
			}
		}
	}
	return 0, false
}

// untaken returns the inputs not yet taken, in order.
func (x *inputIndex) untaken() []int {
	var out []int
	for i, taken := range x.taken {
		if !taken {
			out = append(out, i)
		}
	}
	return out
}

// resultKeys returns the keys a result item can match an input by.
func resultKeys(op string, inputs []Input, item sync.Item) []string {
	var keys []string
	if t := stringOf(item["objectWriteTraceId"]); t != "" {
		keys = append(keys, "trace:"+t)
	}
	props, _ := item["properties"].(map[string]any)
	if op == opCreate {
		if email := stringOf(props["email"]); email != "" {
			keys = append(keys, "email:"+sync.NormalizeEmail(email))
		}
		return keys
	}
	keys = append(keys, "id:"+stringOf(item["id"]))
	for _, p := range idProperties(inputs) {
		if v := stringOf(props[p]); v != "" {
			keys = append(keys, "p:"+strings.ToLower(v))
		}
	}
	return keys
}

// errorTargets returns the inputs a batch error is for, each as the keys
// that can name it: one per trace id and one per id in its context (an
// OBJECT_NOT_FOUND entry lists every missing id).
func errorTargets(e batchError) [][]string {
	var groups [][]string
	traces := append([]string{e.ObjectWriteTraceID}, e.Context.ObjectWriteTraceID...)
	for _, t := range traces {
		if t != "" {
			groups = append(groups, []string{"trace:" + t})
		}
	}
	for _, id := range e.Context.IDs {
		groups = append(groups,
			[]string{"id:" + id, "p:" + strings.ToLower(id), "email:" + sync.NormalizeEmail(id)})
	}
	return groups
}

func idProperties(inputs []Input) []string {
	var out []string
	for _, in := range inputs {
		if in.IDProperty != "" && !slices.Contains(out, in.IDProperty) {
			out = append(out, in.IDProperty)
		}
	}
	return out
}

// assign maps a batch response onto the inputs of its call: results and
// errors by trace id, id or id property (never by position: HubSpot
// promises no order). What remains unmatched goes to the last input left
// only when exactly one result or error and one input remain; otherwise
// each input left gets an error saying its outcome is unknown.
func assign(op string, inputs []Input, resp batchResponse) []Result {
	res := make([]Result, len(inputs))
	x := newInputIndex(op, inputs)
	var spareItems []sync.Item
	for _, item := range resp.Results {
		i, ok := x.take(resultKeys(op, inputs, item)...)
		if !ok {
			spareItems = append(spareItems, item)
			continue
		}
		res[i] = newResult(item)
	}
	var spareErrs []batchError
	for _, e := range resp.Errors {
		matched := false
		for _, keys := range errorTargets(e) {
			if i, ok := x.take(keys...); ok {
				res[i].Err = e.itemError()
				matched = true
			}
		}
		if !matched {
			spareErrs = append(spareErrs, e)
		}
	}
	left := x.untaken()
	switch {
	case len(left) == 0:
	case len(left) == 1 && len(spareItems) == 1 && len(spareErrs) == 0:
		res[left[0]] = newResult(spareItems[0])
	case len(left) == 1 && len(spareItems) == 0 && len(spareErrs) == 1:
		res[left[0]].Err = spareErrs[0].itemError()
	case len(spareItems) == 0 && len(spareErrs) == 0:
		for _, i := range left {
			res[i].Err = &ItemError{
				Category: "MISSING_RESULT",
				Message:  "the batch response has neither a result nor an error for this input",
			}
		}
	default:
		msg := fmt.Sprintf("the batch response holds %d result(s) and %d error(s) that "+
			"match no input by objectWriteTraceId, id or email; which is this input's is "+
			"unknown", len(spareItems), len(spareErrs))
		if op != opRead && op != opArchive {
			msg += ", and the write may have taken effect"
		}
		for _, i := range left {
			res[i].Err = &ItemError{Category: "UNMATCHED_RESULT", Message: msg}
		}
	}
	return res
}

func newResult(item sync.Item) Result {
	isNew, _ := item["new"].(bool)
	delete(item, "new")
	delete(item, "objectWriteTraceId")
	return Result{Item: item, New: isNew}
}

// precheck rejects an input that HubSpot would certainly refuse, without
// a request.
func precheck(op string, in Input) error {
	email := in.Properties["email"]
	if (op == opUpsert || op == opUpdate) && in.IDProperty == "email" {
		email = in.ID
	}
	if op == opUpsert && in.ID == "" {
		return &ItemError{Category: "VALIDATION_ERROR", Message: "upsert input has no id"}
	}
	if email != "" && !plausibleEmail(strings.TrimSpace(email)) {
		return &ItemError{
			Category: "VALIDATION_ERROR",
			Message:  fmt.Sprintf("Email address %s is invalid (rejected by the client)", email),
		}
	}
	return nil
}

// batchRun is the state of one batch method call across its requests.
type batchRun struct {
	op     string
	inputs []Input
	tmpl   batchRequest // fields besides the inputs, such as read properties
	res    []Result
	done   []bool
}

// runBatch runs a batch operation of any length: inputs that precheck
// rejects are reported without a request, the rest go out in calls of at
// most MaxBatchInputs, and a call that HubSpot fails as a whole because of
// some of its inputs is narrowed down (see isolate). The error is for a
// failure that no input explains (authentication, a rate limit, a server
// error, ctx); the results then still cover every input, and those whose
// outcome is unknown carry that error.
func (c *Client) runBatch(ctx context.Context, op string, inputs []Input,
	tmpl *batchRequest) ([]Result, error) {
	b := &batchRun{op: op, inputs: inputs, res: make([]Result, len(inputs)),
		done: make([]bool, len(inputs))}
	if tmpl != nil {
		b.tmpl = *tmpl
	}
	var send []int
	for i, in := range inputs {
		if err := precheck(op, in); err != nil {
			b.finish(i, Result{Err: err})
			continue
		}
		send = append(send, i)
	}
	for _, chunk := range planChunks(op, inputs, send) {
		if err := c.isolate(ctx, b, chunk); err != nil {
			for i := range b.res {
				if !b.done[i] {
					b.res[i].Err = err
				}
			}
			return b.res, err
		}
	}
	return b.res, nil
}

func (b *batchRun) finish(i int, r Result) {
	b.res[i] = r
	b.done[i] = true
}

// isolate sends the inputs idx in one call and, when HubSpot refuses the
// call as a whole because of some of its inputs, narrows the failure down
// (see narrow).
func (c *Client) isolate(ctx context.Context, b *batchRun, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	ie, env, err := c.send(ctx, b, idx)
	if err != nil || ie == nil {
		return err
	}
	_, err = c.narrow(ctx, b, idx, ie, env)
	return err
}

// send posts the inputs idx in one call. On success it records their
// results and returns nil, nil. When HubSpot refuses the whole call with a
// 400, 409 or 422, it returns that error as an [*ItemError] with its
// envelope; the error return is for any other failure.
func (c *Client) send(ctx context.Context, b *batchRun, idx []int) (*ItemError, envelope,
	error) {
	out, err := c.postBatch(ctx, b.op, b.sub(idx), b.tmpl)
	if err == nil {
		for k, i := range idx {
			b.finish(i, out[k])
		}
		return nil, envelope{}, nil
	}
	ie, env, ok := inputError(err)
	if !ok {
		return nil, envelope{}, err
	}
	return ie, env, nil
}

// narrow handles the inputs idx, which HubSpot refused as a whole with ie
// (and envelope env). A read or archive, or a single input, fails with ie.
// Inputs that the error names (an invalid email address, an id, a property
// that does not exist) fail with it and the rest are sent again. Otherwise
// the inputs are split in halves, each sent on its own and narrowed in
// turn, until each failing input stands alone.
//
// When both halves fail just as the whole did, the error may concern every
// input (an account-wide rule, say), and halving down to each of n inputs
// would take about 2n requests to show it. So narrow follows the left half
// down first: if at every level both halves fail alike, down to a single
// input, it takes the error to concern the right halves too and fails them
// without more requests, about 2·log2(n) requests in all. The result
// reports whether every input of idx failed with ie in that way.
func (c *Client) narrow(ctx context.Context, b *batchRun, idx []int, ie *ItemError,
	env envelope) (bool, error) {
	if len(idx) == 1 || b.op == opRead || b.op == opArchive {
		// Missing ids do not fail reads and archives as a whole; what does
		// concerns every input.
		for _, i := range idx {
			b.finish(i, Result{Err: ie})
		}
		return true, nil
	}
	if named := namedInputs(b.sub(idx), env); len(named) > 0 {
		var rest []int
		for k, i := range idx {
			if named[k] {
				b.finish(i, Result{Err: ie})
			} else {
				rest = append(rest, i)
			}
		}
		return false, c.isolate(ctx, b, rest)
	}
	left, right := idx[:len(idx)/2], idx[len(idx)/2:]
	lie, lenv, err := c.send(ctx, b, left)
	if err != nil {
		return false, err
	}
	rie, renv, err := c.send(ctx, b, right)
	if err != nil {
		return false, err
	}
	if sameError(lie, ie) && sameError(rie, ie) {
		all, err := c.narrow(ctx, b, left, lie, lenv)
		if err != nil {
			return false, err
		}
		if all {
			for _, i := range right {
				b.finish(i, Result{Err: rie})
			}
			return true, nil
		}
		_, err = c.narrow(ctx, b, right, rie, renv)
		return false, err
	}
	for _, h := range []struct {
		idx []int
		ie  *ItemError
		env envelope
	}{{left, lie, lenv}, {right, rie, renv}} {
		if h.ie == nil {
			continue
		}
		if _, err := c.narrow(ctx, b, h.idx, h.ie, h.env); err != nil {
			return false, err
		}
	}
	return false, nil
}

// sameError reports whether a whole-call error e is the same as the
// error parent of the call it was split from.
func sameError(e, parent *ItemError) bool {
	return e != nil && parent != nil && e.StatusCode == parent.StatusCode &&
		e.Category == parent.Category && e.Message == parent.Message
}

// sub returns the inputs idx.
func (b *batchRun) sub(idx []int) []Input {
	out := make([]Input, len(idx))
	for k, i := range idx {
		out[k] = b.inputs[i]
	}
	return out
}

// missingPropertyPattern finds the name in HubSpot's message for an
// unknown property (`Property "favourite" does not exist`, its quotes
// escaped when the message embeds JSON).
var missingPropertyPattern = regexp.MustCompile(
	`Property \\?"?([A-Za-z0-9_]+)\\?"? does not exist`)

// namedInputs returns which inputs a whole-call error names: by an invalid
// email address quoted in the message, by ids in its context, or by an
// unknown property that they set.
func namedInputs(sub []Input, env envelope) map[int]bool {
	bad := map[int]bool{}
	emails := invalidEmails(env.Message)
	for _, d := range env.Errors {
		emails = append(emails, invalidEmails(d.Message)...)
	}
	for k, in := range sub {
		email := in.Properties["email"]
		if in.IDProperty == "email" {
			email = in.ID
		}
		if email != "" && slices.Contains(emails, sync.NormalizeEmail(email)) {
			bad[k] = true
		}
		for _, id := range env.Context.IDs {
			if id != "" && (id == in.ID || strings.EqualFold(id, email)) {
				bad[k] = true
			}
		}
	}
	if len(bad) > 0 {
		return bad
	}
	for _, name := range missingProperties(env) {
		for k, in := range sub {
			if _, ok := in.Properties[name]; ok {
				bad[k] = true
			}
		}
	}
	return bad
}

// missingProperties returns the unknown properties an error names.
func missingProperties(env envelope) []string {
	var names []string
	for _, m := range missingPropertyPattern.FindAllStringSubmatch(env.Message, -1) {
		names = append(names, m[1])
	}
	for _, d := range env.Errors {
		if d.Code == "PROPERTY_DOESNT_EXIST" {
			names = append(names, d.Context.PropertyName...)
		}
	}
	return names
}

// postBatch sends one batch call of at most MaxBatchInputs inputs and maps
// the (possibly multi-status) response back onto them.
func (c *Client) postBatch(ctx context.Context, op string, inputs []Input,
	req batchRequest) ([]Result, error) {
	req.Inputs = make([]wireInput, len(inputs))
	for i, in := range inputs {
		req.Inputs[i] = wireInput(in)
	}
	r := call{method: http.MethodPost, path: "/batch/" + op, body: req, create: op == opCreate}
	if op == opRead {
		r.query = url.Values{"archived": {"false"}}
	}
	var resp batchResponse
	if err := c.do(ctx, r, &resp); err != nil {
		return nil, fmt.Errorf("sending batch %s of %d contacts: %w", op, len(inputs), err)
	}
	if op == opArchive {
		return make([]Result, len(inputs)), nil // 204: all archived
	}
	return assign(op, inputs, resp), nil
}

// traceIDs returns inputs with an ObjectWriteTraceID on each, keeping those
// the caller set.
func traceIDs(inputs []Input) []Input {
	out := slices.Clone(inputs)
	for i := range out {
		if out[i].ObjectWriteTraceID == "" {
			out[i].ObjectWriteTraceID = "keysync-" + strconv.Itoa(i)
		}
	}
	return out
}
