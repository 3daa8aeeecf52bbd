package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/scimbridge/scimbridge/backends"
)

// This file holds the writes that go through statements of the
// configuration (create, update and delete blocks of a resource, add and
// remove blocks of a reference or multi_value) instead of the backend's own
// SQL; see StatementConfig. Reads are unchanged.

// Parameter names a block offers besides the columns.
const (
	paramNameID     = "id"
	paramNameTarget = "target_id"
	paramNameValue  = "value"
)

type paramKind int

const (
	paramColumn paramKind = iota // a column of the record
	paramID                      // the record's id (:id)
	paramTarget                  // the referenced record's id (:target_id)
	paramValue                   // a multi_value's value (:value)
)

// stmtParam is one placeholder of a statement, in order.
type stmtParam struct {
	kind paramKind
	col  *column // paramColumn
}

// statement is a statement block compiled against the schema: the SQL
// with the dialect's placeholders and what to bind to each.
type statement struct {
	what   string // for messages: `create statement of "User"`
	sql    string
	params []stmtParam
	cols   map[*column]bool // the columns it takes
	// returnsID and findBy: how a create statement gives the new id.
	returnsID bool
	findBy    *column
}

// resourceStatements are the statement blocks of a resource (nil: none).
type resourceStatements struct {
	create, update, delete *statement
}

// refStatements are the add and remove blocks of a reference or multi_value.
type refStatements struct {
	add, remove *statement
}

// args binds the parameters of st with val.
func (st *statement) args(val func(p stmtParam) any) []any {
	out := make([]any, len(st.params))
	for i, p := range st.params {
		out[i] = val(p)
	}
	return out
}

// columns lists the columns st takes, in the resource's order.
func (st *statement) columns(r *resource) []*column {
	var out []*column
	for _, c := range r.columns {
		if st.cols[c] {
			out = append(out, c)
		}
	}
	return out
}

// createStmt, updateStmt and deleteStmt are r's statements, or nil.
func (r *resource) createStmt() *statement {
	if r.stmts == nil {
		return nil
	}
	return r.stmts.create
}

func (r *resource) updateStmt() *statement {
	if r.stmts == nil {
		return nil
	}
	return r.stmts.update
}

func (r *resource) deleteStmt() *statement {
	if r.stmts == nil {
		return nil
	}
	return r.stmts.delete
}

// Validation without a database.

// validateStatements checks the statement blocks of r: their SQL (with the
// lexical rules of the driver), where they may appear, their settings,
// and the parameter names that are known without the database.
func (c *Config) validateStatements(r *ResourceConfig) hcl.Diagnostics {
	var diags hcl.Diagnostics
	add := func(rng hcl.Range, summary, detail string) {
		diags = append(diags, backends.ConfigDiag(rng, summary, detail))
	}
	lr, lexOK := lexRulesFor(c.Driver)
	// names: the parameter names known at this point (nil: the columns are
	// only known once the table is read); skip: a name reported elsewhere.
	check := func(st *StatementConfig, block, what string, names map[string]bool, skip string) {
		if st == nil {
			return
		}
		if block != "create" {
			if st.ReturnsID {
				add(st.ReturnsIDRange, "Invalid "+block+" block", "returns_id only goes with a create block.")
			}
			if st.FindBy != "" {
				add(st.FindByRange, "Invalid "+block+" block", "find_by only goes with a create block.")
			}
		}
		if !lexOK {
			return // the driver is reported already
		}
		parts, err := parseStatement(st.SQL, lr)
		if err != nil {
			add(st.SQLRange, "Invalid statement", fmt.Sprintf("%s: %v.", what, err))
			return
		}
		if names == nil {
			return
		}
		reported := map[string]bool{}
		for _, p := range parts {
			name := strings.ToLower(p.param)
			if p.param != "" && !names[name] && name != skip && !reported[name] {
				reported[name] = true
				add(st.SQLRange, "Unknown statement parameter", fmt.Sprintf("%s: unknown parameter :%s; it takes %s.", what, p.param, paramList(names)))
			}
		}
	}
	// uses reports whether st takes parameter name; ok is false when its
	// SQL cannot be read (reported by check).
	uses := func(st *StatementConfig, name string) (used, ok bool) {
		if !lexOK {
			return false, false
		}
		parts, err := parseStatement(st.SQL, lr)
		if err != nil {
			return false, false
		}
		for _, p := range parts {
			if strings.EqualFold(p.param, name) {
				return true, true
			}
		}
		return false, true
	}

	// The columns, when listed: every name is known now.
	var cols map[string]bool
	if len(r.Columns) > 0 {
		cols = map[string]bool{}
		for _, col := range append(slices.Clone(r.Columns), r.CreatedColumn, r.ModifiedColumn, r.VersionColumn) {
			if col != "" {
				cols[strings.ToLower(col)] = true
			}
		}
	}
	withID := func(m map[string]bool) map[string]bool {
		if m == nil {
			return nil
		}
		out := map[string]bool{paramNameID: true}
		for k := range m {
			out[k] = true
		}
		return out
	}
	uuidIDs := r.IDGeneration == idGenUUID
	if st := r.Create; st != nil {
		names := cols
		if uuidIDs {
			names = withID(cols)
		}
		skip := ""
		if !uuidIDs {
			skip = paramNameID
		}
		check(st, "create", fmt.Sprintf("create statement of %q", r.Type), names, skip)
		usesID, readable := uses(st, paramNameID)
		if !uuidIDs && usesID {
			add(st.SQLRange, "Unknown statement parameter",
				fmt.Sprintf("create statement of %q: :id is the new record's id, which the database makes (id_generation = %q); with id_generation = %q the backend makes it and passes it as :id.", r.Type, idGenDatabase, idGenUUID))
		}
		switch {
		case uuidIDs && (st.ReturnsID || st.FindBy != ""):
			rng := st.ReturnsIDRange
			if !st.ReturnsID {
				rng = st.FindByRange
			}
			add(rng, "Invalid create block", fmt.Sprintf("with id_generation = %q the backend makes the id and passes it as :id; returns_id and find_by do not apply.", idGenUUID))
		case uuidIDs && readable && !usesID:
			add(st.SQLRange, "Invalid create block", fmt.Sprintf("with id_generation = %q the create statement must take the new id as :id.", idGenUUID))
		case !uuidIDs && st.ReturnsID && st.FindBy != "":
			add(st.FindByRange, "Invalid create block", "set returns_id or find_by, not both.")
		case !uuidIDs && !st.ReturnsID && st.FindBy == "":
			add(st.DefRange, "Invalid create block",
				"the new record's id must come from somewhere: set returns_id = true (the statement returns it) or find_by = \"<unique column>\" (it is looked up by that column).")
		}
		if st.FindBy != "" {
			usesFindBy, readable := uses(st, st.FindBy)
			switch {
			case !identRE.MatchString(st.FindBy):
				add(st.FindByRange, "Invalid SQL identifier", fmt.Sprintf("find_by %q must match %s.", st.FindBy, identRE))
			case cols != nil && !cols[strings.ToLower(st.FindBy)]:
				add(st.FindByRange, "Invalid find_by", fmt.Sprintf("find_by %q is not a listed column of resource %q.", st.FindBy, r.Type))
			case readable && !usesFindBy:
				add(st.FindByRange, "Invalid find_by", fmt.Sprintf("find_by %q must also be a parameter of the create statement (:%s): the new row is found by the value passed.", st.FindBy, st.FindBy))
			}
		}
	}
	check(r.Update, "update", fmt.Sprintf("update statement of %q", r.Type), withID(cols), "")
	check(r.Delete, "delete", fmt.Sprintf("delete statement of %q", r.Type), withID(cols), "")

	pair := func(addSt, removeSt *StatementConfig, kind, name string, names map[string]bool) {
		if (addSt == nil) != (removeSt == nil) {
			rng := hcl.Range{}
			if addSt != nil {
				rng = addSt.DefRange
			} else {
				rng = removeSt.DefRange
			}
			add(rng, "Incomplete "+kind+" statements", fmt.Sprintf("%s %q: add and remove go together; give both or neither.", kind, name))
		}
		check(addSt, "add", fmt.Sprintf("add statement of %s %q", kind, name), names, "")
		check(removeSt, "remove", fmt.Sprintf("remove statement of %s %q", kind, name), names, "")
	}
	for _, ref := range r.References {
		if ref.Add == nil && ref.Remove == nil {
			continue
		}
		rng := ref.DefRange
		if ref.Add != nil {
			rng = ref.Add.DefRange
		}
		switch l := ref.layout(); {
		case ref.ReadOnly:
			add(rng, "Invalid reference", fmt.Sprintf("reference %q is read_only; it takes no add or remove statements.", ref.Name))
		case l != "" && l != layoutJoin && l != layoutFK:
			add(rng, "Invalid reference", fmt.Sprintf("reference %q: add and remove statements go with join_table and foreign_key, not with %s.", ref.Name, l))
		}
		pair(ref.Add, ref.Remove, "reference", ref.Name, map[string]bool{paramNameID: true, paramNameTarget: true})
	}
	for _, mv := range r.MultiValues {
		pair(mv.Add, mv.Remove, "multi_value", mv.Name, map[string]bool{paramNameID: true, paramNameValue: true})
	}
	return diags
}

// paramList renders parameter names for messages, sorted.
func paramList(names map[string]bool) string {
	var out []string
	for n := range names {
		out = append(out, ":"+n)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// Compilation against the schema.

// compileStatements resolves the statement blocks of cfg against the
// loaded resources and renders them with the dialect's placeholders. It
// reports every problem, each with its place in the configuration.
func compileStatements(d dialect, cfg *Config, res map[string]*resource) error {
	lr, ok := lexRulesFor(cfg.Driver)
	if !ok {
		return fmt.Errorf("unsupported driver %q", cfg.Driver)
	}
	var problems []string
	fail := func(rng hcl.Range, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s", rng, fmt.Sprintf(format, args...)))
	}
	// compile renders sc; resolve maps a parameter name to what to bind
	// (false: unknown), names lists the names for the message.
	compile := func(sc *StatementConfig, what string, resolve func(name string) (stmtParam, bool), names func() string) *statement {
		if sc == nil {
			return nil
		}
		parts, err := parseStatement(sc.SQL, lr)
		if err != nil {
			fail(sc.SQLRange, "%s: %v", what, err)
			return nil
		}
		st := &statement{what: what, cols: map[*column]bool{}, returnsID: sc.ReturnsID}
		var sb strings.Builder
		unknown := map[string]bool{}
		for _, p := range parts {
			if p.param == "" {
				sb.WriteString(p.text)
				continue
			}
			sp, ok := resolve(p.param)
			if !ok {
				if !unknown[strings.ToLower(p.param)] {
					fail(sc.SQLRange, "%s: unknown parameter :%s; it takes %s", what, p.param, names())
				}
				unknown[strings.ToLower(p.param)] = true
				continue
			}
			st.params = append(st.params, sp)
			if sp.col != nil {
				st.cols[sp.col] = true
			}
			sb.WriteString(d.placeholder(len(st.params)))
		}
		if len(unknown) > 0 {
			return nil
		}
		st.sql = sb.String()
		return st
	}
	for _, rc := range cfg.Resources {
		r := res[rc.Type]
		if r == nil {
			continue
		}
		colNames := func(withID bool) func() string {
			return func() string {
				m := map[string]bool{}
				if withID {
					m[paramNameID] = true
				}
				for _, c := range r.columns {
					m[strings.ToLower(c.attr)] = true
				}
				return paramList(m)
			}
		}
		resolver := func(withID bool) func(string) (stmtParam, bool) {
			return func(name string) (stmtParam, bool) {
				if strings.EqualFold(name, paramNameID) {
					return stmtParam{kind: paramID}, withID
				}
				if c, _ := r.attr(name); c != nil {
					return stmtParam{kind: paramColumn, col: c}, true
				}
				return stmtParam{}, false
			}
		}
		// An attribute column named "id" would be ambiguous.
		idCol, _ := r.attr(paramNameID)
		if idCol != nil && (rc.Create != nil || rc.Update != nil || rc.Delete != nil) {
			fail(rc.TypeRange, "resource %q: column %q is an attribute, but :id in statements is the record id; list columns explicitly to hide it", rc.Type, idCol.name)
		} else if rc.Create != nil || rc.Update != nil || rc.Delete != nil {
			uuidIDs := r.idGen == idGenUUID
			rs := &resourceStatements{
				create: compile(rc.Create, fmt.Sprintf("create statement of %q", rc.Type), resolver(uuidIDs), colNames(uuidIDs)),
				update: compile(rc.Update, fmt.Sprintf("update statement of %q", rc.Type), resolver(true), colNames(true)),
				delete: compile(rc.Delete, fmt.Sprintf("delete statement of %q", rc.Type), resolver(true), colNames(true)),
			}
			if st := rs.create; st != nil && rc.Create.FindBy != "" {
				c, _ := r.attr(rc.Create.FindBy)
				switch {
				case c == nil:
					fail(rc.Create.FindByRange, "create statement of %q: find_by %q is not a column of resource %q", rc.Type, rc.Create.FindBy, rc.Type)
				case !st.cols[c]:
					fail(rc.Create.FindByRange, "create statement of %q: find_by %q must also be a parameter of the statement", rc.Type, rc.Create.FindBy)
				default:
					st.findBy = c
				}
			}
			r.stmts = rs
		}
		refStmts := func(ref *reference, addSC, removeSC *StatementConfig, kind string, own string, ownKind paramKind) {
			if addSC == nil || removeSC == nil || ref == nil {
				return
			}
			resolve := func(name string) (stmtParam, bool) {
				switch {
				case strings.EqualFold(name, paramNameID):
					return stmtParam{kind: paramID}, true
				case strings.EqualFold(name, own):
					return stmtParam{kind: ownKind}, true
				}
				return stmtParam{}, false
			}
			names := func() string { return paramList(map[string]bool{paramNameID: true, own: true}) }
			rs := &refStatements{
				add:    compile(addSC, fmt.Sprintf("add statement of %s %q", kind, ref.attr), resolve, names),
				remove: compile(removeSC, fmt.Sprintf("remove statement of %s %q", kind, ref.attr), resolve, names),
			}
			if rs.add != nil && rs.remove != nil {
				ref.stmts = rs
			}
		}
		findRef := func(name string) *reference {
			for _, ref := range r.refs {
				if strings.EqualFold(ref.attr, name) {
					return ref
				}
			}
			return nil
		}
		for _, refc := range rc.References {
			refStmts(findRef(refc.Name), refc.Add, refc.Remove, "reference", paramNameTarget, paramTarget)
		}
		for _, mv := range rc.MultiValues {
			refStmts(findRef(mv.Name), mv.Add, mv.Remove, "multi_value", paramNameValue, paramValue)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sql backend statements do not match the database:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// Running them.

// statementError is a statement that ran but did not do what the
// configuration says it does (no id returned, the record left in place):
// a configuration or procedure problem, reported as an internal error.
func statementError(st *statement, format string, args ...any) error {
	return fmt.Errorf("%s: %s", st.what, fmt.Sprintf(format, args...))
}

// createByStatement creates a record with the create statement, then its
// references, and reads it back, in one transaction. colVals are the
// column values to write (bound), given the references with values.
func (b *Backend) createByStatement(ctx context.Context, r *resource, colVals map[*column]any, given []*reference, refVals map[*reference][]string) (backends.Record, error) {
	st := r.stmts.create
	for _, c := range r.columns {
		if _, ok := colVals[c]; ok && !c.managed && !st.cols[c] {
			return backends.Record{}, configf("%s.%s cannot be set on create: the create statement has no parameter :%s", r.name, c.attr, c.attr)
		}
	}
	var newKey any
	if r.idGen == idGenUUID {
		newKey = newUUID()
	}
	args := st.args(func(p stmtParam) any {
		if p.kind == paramID {
			return newKey
		}
		return colVals[p.col] // nil (NULL) when not given
	})
	var rec backends.Record
	err := b.inTx(ctx, func(tx *dbsql.Tx) error {
		key := newKey
		switch {
		case st.returnsID:
			v, err := firstValue(ctx, tx, st, args)
			if err != nil {
				return err
			}
			if key, err = normalizeKey(r, v); err != nil {
				return statementError(st, "returned %v, which is not an id of %s: %v", v, r.name, err)
			}
		default:
			if _, err := tx.ExecContext(ctx, st.sql, args...); err != nil {
				return err
			}
			if st.findBy != nil {
				var err error
				if key, err = b.findCreated(ctx, tx, r, st, colVals[st.findBy]); err != nil {
					return err
				}
			}
		}
		for _, ref := range given {
			if err := b.addRefs(ctx, tx, ref, key, refVals[ref]); err != nil {
				return err
			}
		}
		var err error
		rec, err = b.read(ctx, tx, r, key, nil)
		if errors.Is(err, backends.ErrNotFound) {
			return statementError(st, "no live record of %s with id %v after it ran", r.name, key)
		}
		return err
	})
	if err != nil {
		return backends.Record{}, b.wrap(ctx, r, "create "+r.name, err)
	}
	b.gen.Add(1)
	return rec, nil
}

// firstValue runs a statement that returns rows and returns the first
// column of the first row.
func firstValue(ctx context.Context, tx *dbsql.Tx, st *statement, args []any) (any, error) {
	rows, err := tx.QueryContext(ctx, st.sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, statementError(st, "returned no row; with returns_id = true it must return the new id")
	}
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	dest, ptrs := scanDest(max(1, len(names)))
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	if dest[0] == nil {
		return nil, statementError(st, "returned NULL; with returns_id = true it must return the new id")
	}
	// Read to the end so that errors raised after the row are seen.
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return dest[0], rows.Close()
}

// findCreated looks up the key of the live row whose find_by column holds v.
func (b *Backend) findCreated(ctx context.Context, tx *dbsql.Tx, r *resource, st *statement, v any) (any, error) {
	c := st.findBy
	if v == nil {
		return nil, invalidf("%s.%s is required: the new record is found by it", r.name, c.attr)
	}
	sb := newBuilder(b.d)
	sb.write("SELECT ", sb.q(r.idCol), " FROM ", sb.q(r.table), " WHERE ", sb.q(c.name), " = ", sb.arg(v))
	b.andLive(sb, r, "")
	sb.write(b.d.limit(sb, 2, 0))
	rows, err := tx.QueryContext(ctx, sb.String(), sb.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []any
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	switch len(keys) {
	case 0:
		return nil, statementError(st, "no live row of %s has %s = %v after it ran (find_by)", r.name, c.name, v)
	case 1:
		key, err := normalizeKey(r, keys[0])
		if err != nil {
			return nil, statementError(st, "%v", err)
		}
		return key, nil
	}
	return nil, statementError(st, "several live rows of %s have %s = %v (find_by must be unique)", r.name, c.name, v)
}

// modifyByStatement applies mods to a record whose resource has an update
// statement: in one transaction it locks the row, calls the update
// statement with the row after the change when mods change columns,
// applies the reference changes and reads the row back. The backend
// writes nothing to the row itself (no modified or version column on a
// membership change: the update statement sets those).
func (b *Backend) modifyByStatement(ctx context.Context, r *resource, key any, mods, colMods []backends.Modification, attrs []string) (backends.Record, error) {
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	var rec backends.Record
	err := b.inTx(ctx, func(tx *dbsql.Tx) error {
		if err := b.updateByStatement(ctx, tx, r, key, colMods); err != nil {
			return err
		}
		for _, m := range mods {
			if _, ref := r.attr(m.Attr); ref != nil {
				if err := b.modifyRefs(ctx, tx, ref, key, m); err != nil {
					return err
				}
			}
		}
		var err error
		rec, err = b.read(ctx, tx, r, key, attrs)
		if errors.Is(err, backends.ErrNotFound) {
			return statementError(r.stmts.update, "no live record of %s with id %v after it ran", r.name, key)
		}
		return err
	})
	if err != nil {
		return backends.Record{}, b.wrap(ctx, r, "modify "+r.name, err)
	}
	b.gen.Add(1)
	return rec, nil
}

// updateByStatement locks the row of r with key and, when colMods change
// columns, calls the update statement with the row after the change.
func (b *Backend) updateByStatement(ctx context.Context, tx *dbsql.Tx, r *resource, key any, colMods []backends.Modification) error {
	st := r.stmts.update
	if len(colMods) == 0 {
		_, err := b.lockRow(ctx, tx, r, key, nil)
		return err
	}
	cur, err := b.lockRow(ctx, tx, r, key, r.columns)
	if err != nil {
		return err
	}
	next, err := applyColumns(r, cur, colMods)
	if err != nil {
		return err
	}
	for _, c := range r.columns {
		if v, ok := next[c]; ok && !st.cols[c] && !sameValue(v, cur[c]) {
			return configf("%s.%s cannot be changed: the update statement has no parameter :%s", r.name, c.attr, c.attr)
		}
	}
	now := time.Now()
	var argErr error
	args := st.args(func(p stmtParam) any {
		c := p.col
		switch {
		case p.kind == paramID:
			return key
		case c == r.updated:
			return b.stamp(c, now)
		case c == r.version:
			n := int64(0)
			if v := cur[c]; v != nil {
				var err error
				if n, err = strconv.ParseInt(strings.TrimSpace(*v), 10, 64); err != nil {
					argErr = fmt.Errorf("version_column %s holds %q, not an integer", c.name, *v)
				}
			}
			return n + 1
		}
		v, changed := next[c]
		if !changed {
			v = cur[c]
		}
		if v == nil {
			return nil
		}
		return b.bind(c, *v)
	})
	if argErr != nil {
		return argErr
	}
	_, err = tx.ExecContext(ctx, st.sql, args...)
	return err
}

func sameValue(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// deletesByStatement reports whether deleting a record of r runs a
// statement: r's delete statement, or the remove statement of a reference
// that r owns or that points at r.
func (b *Backend) deletesByStatement(r *resource) bool {
	if r.deleteStmt() != nil {
		return true
	}
	for _, ref := range r.refsOn {
		if ref.stmts != nil {
			return true
		}
	}
	return false
}

// deleteWithStatements deletes the record of r with key (id as the client
// gave it), in the caller's transaction, when deletesByStatement: it locks
// the row; removes the references that write through statements with
// their remove statements, unless r has a delete statement (which then
// removes them); removes the other references as Delete does; and deletes
// the row with r's delete statement or as Delete does.
func (b *Backend) deleteWithStatements(ctx context.Context, tx *dbsql.Tx, r *resource, key any, id string) error {
	del := r.deleteStmt()
	var cols []*column
	if del != nil {
		cols = del.columns(r)
	}
	cur, err := b.lockRow(ctx, tx, r, key, cols)
	if err != nil {
		return err
	}
	// done: the join table columns written through statements, so that a
	// reference without statements over the same rows (a read-only
	// reverse reference) does not write them directly.
	done := map[string]bool{}
	for _, ref := range r.refsOn {
		if ref.stmts == nil {
			continue
		}
		for _, side := range []struct {
			is, owner bool
			col       string
		}{{ref.owner == r, true, ref.this}, {ref.target == r, false, ref.other}} {
			if !side.is {
				continue
			}
			if len(ref.fixed) == 0 {
				// A multi_value with where values owns only some of the
				// owner's child rows: another block may still drop the rest.
				done[strings.ToLower(ref.joinTable+"."+side.col)] = true
			}
			if del != nil {
				continue
			}
			if err := b.removeAllByStatement(ctx, tx, ref, key, side.owner); err != nil {
				return err
			}
		}
	}
	for _, ref := range r.refsOn {
		if ref.stmts == nil {
			if err := b.dropRef(ctx, tx, r, ref, key, done); err != nil {
				return err
			}
		}
	}
	if del == nil {
		return b.deleteRow(ctx, tx, r, key, id)
	}
	args := del.args(func(p stmtParam) any {
		if p.kind == paramID {
			return key
		}
		if v := cur[p.col]; v != nil {
			return b.bind(p.col, *v)
		}
		return nil
	})
	if _, err := tx.ExecContext(ctx, del.sql, args...); err != nil {
		return err
	}
	// The record must be gone (or marked as soft_delete says).
	if _, err := b.rowValues(ctx, tx, r, key, nil, ""); err == nil {
		return statementError(del, "the record %s %v is still live after it ran; if the statement only marks it, configure soft_delete to match", r.name, key)
	} else if !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	return nil
}

// removeAllByStatement removes, with ref's remove statement, every
// reference held by the record with key (owner) or naming it (!owner).
func (b *Backend) removeAllByStatement(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, owner bool) error {
	st := ref.stmts.remove
	if owner {
		cur, err := b.refValues(ctx, tx, ref, key)
		if err != nil {
			return err
		}
		return b.execEach(ctx, tx, st, len(cur), func(i int) []any { return b.refArgs(st, ref, key, cur[i]) })
	}
	// The owners holding key.
	sb := newBuilder(b.d)
	sb.write("SELECT DISTINCT j.", sb.q(ref.this), " FROM ", sb.q(ref.joinTable), " j WHERE j.", sb.q(ref.other), " = ", sb.arg(key),
		" AND j.", sb.q(ref.this), " IS NOT NULL ORDER BY j.", sb.q(ref.this))
	found, err := b.keySet(ctx, tx, ref.owner, sb)
	if err != nil {
		return err
	}
	owners := make([]string, 0, len(found))
	for k := range found {
		owners = append(owners, k)
	}
	slices.Sort(owners)
	target := fmt.Sprint(key)
	return b.execEach(ctx, tx, st, len(owners), func(i int) []any {
		k, _ := ref.owner.parseID(owners[i])
		return b.refArgs(st, ref, k, target)
	})
}

// refArgs binds a reference statement for the owner with key and the
// referenced id or value v.
func (b *Backend) refArgs(st *statement, ref *reference, key any, v string) []any {
	return st.args(func(p stmtParam) any {
		switch p.kind {
		case paramID:
			return key
		case paramTarget:
			if k, ok := ref.target.parseID(v); ok {
				return k
			}
			return v
		default: // paramValue
			return b.bind(ref.col, v)
		}
	})
}

// execEach runs st n times with args(i), prepared once when n > 1.
func (b *Backend) execEach(ctx context.Context, tx *dbsql.Tx, st *statement, n int, args func(i int) []any) error {
	switch n {
	case 0:
		return nil
	case 1:
		_, err := tx.ExecContext(ctx, st.sql, args(0)...)
		return err
	}
	ps, err := tx.PrepareContext(ctx, st.sql)
	if err != nil {
		return err
	}
	defer ps.Close()
	for i := range n {
		if _, err := ps.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// modifyRefsByStatement applies m to a reference or multi_value with add
// and remove statements, in the caller's transaction (which has locked the
// owner's row or created it): one remove call per id or value that goes,
// then one add call per id or value that comes; ids and values already
// there (or already gone) cause no call. Added ids must name live records
// of the target (ErrInvalidReference, nothing written).
func (b *Backend) modifyRefsByStatement(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, m backends.Modification) error {
	var add, remove []string
	if ref.layout == layoutValues {
		if err := b.checkValues(ref, m.Values); err != nil {
			return err
		}
		vals := dedupe(m.Values)
		cur, err := b.refValues(ctx, tx, ref, key)
		if err != nil {
			return err
		}
		switch m.Op {
		case backends.ModAdd:
			add = without(vals, cur)
		case backends.ModDelete:
			remove = cur
			if len(m.Values) > 0 {
				remove = without(cur, without(cur, vals)) // cur ∩ vals, in cur's order
			}
		default:
			remove, add = without(cur, vals), without(vals, cur)
		}
	} else {
		switch m.Op {
		case backends.ModAdd:
			keys, err := parseTargets(ref, m.Values)
			if err != nil {
				return err
			}
			for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
				have, err := b.presentTargets(ctx, tx, ref, key, chunk)
				if err != nil {
					return err
				}
				for _, k := range chunk {
					if !have[fmt.Sprint(k)] {
						add = append(add, fmt.Sprint(k))
					}
				}
			}
		case backends.ModDelete:
			if len(m.Values) == 0 {
				var err error
				if remove, err = b.refValues(ctx, tx, ref, key); err != nil {
					return err
				}
				break
			}
			keys := possibleKeys(ref.target, m.Values)
			have, err := b.presentRefs(ctx, tx, ref, key, keys)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if id := fmt.Sprint(k); have[id] {
					delete(have, id) // "007" and "7" are one id
					remove = append(remove, id)
				}
			}
		default: // ModReplace
			var err error
			if remove, add, err = b.replaceDiff(ctx, tx, ref, key, m.Values); err != nil {
				return err
			}
		}
	}
	st := ref.stmts
	if err := b.execEach(ctx, tx, st.remove, len(remove), func(i int) []any { return b.refArgs(st.remove, ref, key, remove[i]) }); err != nil {
		return err
	}
	return b.execEach(ctx, tx, st.add, len(add), func(i int) []any { return b.refArgs(st.add, ref, key, add[i]) })
}

// presentRefs returns which of keys the record with key references now
// (rendered as ids), in batches, without reading the whole list.
func (b *Backend) presentRefs(ctx context.Context, tx *dbsql.Tx, ref *reference, key any, keys []any) (map[string]bool, error) {
	have := map[string]bool{}
	for chunk := range slices.Chunk(keys, b.chunkSize(1)) {
		sb := newBuilder(b.d)
		sb.write("SELECT j.", sb.q(ref.other), " FROM ", sb.q(ref.joinTable), " j WHERE j.", sb.q(ref.this), " = ", sb.arg(key),
			" AND j.", sb.q(ref.other), " IN (", sb.list(chunk), ")")
		found, err := b.keySet(ctx, tx, ref.target, sb)
		if err != nil {
			return nil, err
		}
		for k := range found {
			have[k] = true
		}
	}
	return have, nil
}

// lockRow locks the live row of r with key until the transaction ends
// (ErrNotFound if there is none) and returns the values of cols. The
// writes through statements read the row and then call a statement with
// what they read, so other writers of the record must wait: SELECT ...
// FOR UPDATE, or, where r.advisoryLock says the account may not lock rows
// (see chooseLocks), a transaction-level advisory lock on the record, which
// makes the backend's own writers wait for each other (the application's
// procedures do not take it).
func (b *Backend) lockRow(ctx context.Context, tx *dbsql.Tx, r *resource, key any, cols []*column) (map[*column]*string, error) {
	if r.advisoryLock {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(r.table, key)); err != nil {
			return nil, err
		}
		return b.rowValues(ctx, tx, r, key, cols, "")
	}
	return b.rowValues(ctx, tx, r, key, cols, b.d.forUpdate())
}

// chooseLocks sets advisoryLock on the resources whose rows lockRow
// cannot lock with SELECT ... FOR UPDATE: on PostgreSQL that needs the
// UPDATE privilege on the table, which an account that writes only
// through procedures lacks. (MySQL / MariaDB lock with SELECT alone, and
// SQLite serialises writers.)
func chooseLocks(ctx context.Context, d dialect, q querier, res map[string]*resource) error {
	if _, ok := d.(postgresDialect); !ok {
		return nil
	}
	for _, r := range res {
		var may bool
		err := q.QueryRowContext(ctx, `SELECT has_table_privilege(c.oid, 'UPDATE') FROM pg_class c
WHERE c.relname = $1 AND c.relnamespace = to_regnamespace(current_schema())`, r.table).Scan(&may)
		if err != nil && !errors.Is(err, dbsql.ErrNoRows) {
			return fmt.Errorf("checking the privileges on table %q: %w", r.table, err)
		}
		r.advisoryLock = !may
	}
	return nil
}

// advisoryKey is the PostgreSQL advisory lock key of a record.
func advisoryKey(table string, key any) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(table + "\x00" + fmt.Sprint(key)))
	return int64(h.Sum64())
}

// rowValues reads the values of cols of the live row of r with key
// (ErrNotFound if there is none), the SELECT followed by suffix.
func (b *Backend) rowValues(ctx context.Context, tx *dbsql.Tx, r *resource, key any, cols []*column, suffix string) (map[*column]*string, error) {
	q := newBuilder(b.d)
	q.write("SELECT ", q.q(r.idCol))
	for _, c := range cols {
		q.write(", ", q.q(c.name))
	}
	q.write(" FROM ", q.q(r.table), " WHERE ", q.q(r.idCol), " = ", q.arg(key))
	b.andLive(q, r, "")
	q.write(suffix)
	dest, ptrs := scanDest(len(cols) + 1)
	if err := tx.QueryRowContext(ctx, q.String(), q.args...).Scan(ptrs...); err != nil {
		if errors.Is(err, dbsql.ErrNoRows) {
			return nil, notFound(r.name, fmt.Sprint(key))
		}
		return nil, err
	}
	out := map[*column]*string{}
	for i, c := range cols {
		if v, ok := format(dest[i+1]); ok {
			out[c] = &v
		}
	}
	return out, nil
}
