package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*dbsql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *dbsql.Row
	ExecContext(ctx context.Context, query string, args ...any) (dbsql.Result, error)
}

// resource is a resource type resolved against the database schema.
type resource struct {
	name    string
	table   string // as the database spells it
	idCol   string
	idInt   bool
	idUUID  bool
	idGen   string
	idAsCol *column   // the id column as a read-only attribute (readAttr)
	columns []*column // attribute columns, in configuration / table order
	refs    []*reference
	loc     *time.Location
	created *column
	updated *column
	version *column
	softDel *softDelete
	stmts   *resourceStatements // create, update, delete blocks; nil: none
	// tableCols are all columns of the table, attributes or not (DescribeNative).
	tableCols []columnInfo
	// refsOn are the references, of any resource, that hold something of
	// r's records (r owns them or is their target), in configuration
	// order: what deleting a record must clean up.
	refsOn []*reference
	// advisoryLock: the account may not SELECT ... FOR UPDATE the table
	// (PostgreSQL without UPDATE privilege); see lockRow.
	advisoryLock bool
	// reads holds the read statement of each attribute list (readStatement).
	reads  sync.Map
	readsN atomic.Int32
}

// softDelete says how deleted rows are marked.
type softDelete struct {
	col *column // may also be an attribute column
	// value marks deleted rows; nil: timestamp mode (NULL on live rows).
	value *string
}

// column is one attribute backed by a column.
type column struct {
	attr    string // attribute name: the configured spelling
	name    string // the database's spelling
	managed bool   // created / modified timestamp, version: not writable by clients
	info    columnInfo
	isTime  bool // a date/time type: timestamps are bound as time.Time
	naive   bool // times without a zone, in time_zone (timezone.go)
}

// reference is one attribute holding ids of target records. Every layout
// but the delimited one reads as a "join table" (alias j) whose rows pair
// this (the owner's key) with other (the target's key):
//   - layoutJoin: the join table itself;
//   - layoutFK: the target's table, this = the foreign key column, other =
//     the target's id column;
//   - layoutLocal: the owner's table, this = its id column, other = the
//     column holding the target's key (NULL: none).
//
// layoutDelim keeps the ids in the owner's column col, joined by sep.
//
// layoutValues (a multi_value block) is not a reference to records: the
// join table is the child table, other its value column (col describes
// it), and target is nil; the values are plain values, not ids. fixed
// restricts it to the child rows with those column values (where), and
// lookup, when set, makes other a key whose name in the lookup table is
// the value (col then describes the lookup's value column).
type reference struct {
	attr      string
	owner     *resource
	layout    string
	joinTable string
	this      string
	other     string
	col       *column // layoutDelim: the column; layoutFK, layoutLocal: the key column
	sep       string
	target    *resource
	readOnly  bool
	stmts     *refStatements // add and remove blocks; nil: none
	fixed     []fixedValue   // layoutValues: where, sorted by column
	lookup    *lookup        // layoutValues: the lookup table; nil: none
}

// fixedValue is one column = literal of a multi_value's where.
type fixedValue struct {
	col   *column
	value string
}

// lookup is the lookup table of a multi_value: the child's value column
// (key) holds keys of table's keyCol, whose valueCol is the value.
type lookup struct {
	table    string
	key      *column // the child table's column holding the key
	keyCol   string
	valueCol string
}

// newColInfo describes a column that backs a reference.
func newColInfo(d dialect, c columnInfo) *column {
	return &column{attr: c.name, name: c.name, info: c, isTime: d.timeType(c)}
}

// attr finds an attribute by name, case-insensitively.
func (r *resource) attr(name string) (*column, *reference) {
	for _, c := range r.columns {
		if strings.EqualFold(c.attr, name) {
			return c, nil
		}
	}
	for _, ref := range r.refs {
		if strings.EqualFold(ref.attr, name) {
			return nil, ref
		}
	}
	return nil, nil
}

// parseID turns a record id into the key value to bind; false means no
// record can have that id.
func (r *resource) parseID(id string) (any, bool) {
	if id == "" {
		return nil, false
	}
	if r.idUUID {
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, false
		}
		return u.String(), true
	}
	if !r.idInt {
		return id, true
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != id {
		return nil, false
	}
	return n, true
}

// loadSchema resolves the configured resources against the database. It
// reports every problem it finds, each with its place in the configuration.
func loadSchema(ctx context.Context, d dialect, q querier, cfg *Config) (map[string]*resource, error) {
	var problems []string
	fail := func(rng fmt.Stringer, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s", rng, fmt.Sprintf(format, args...)))
	}
	type tableInfo struct {
		name string
		cols []columnInfo
	}
	tables := map[string]tableInfo{}
	table := func(name string) (string, []columnInfo, error) {
		if t, ok := tables[name]; ok {
			return t.name, t.cols, nil
		}
		spelled, cols, err := d.tableColumns(ctx, q, name)
		if err != nil {
			return "", nil, err
		}
		tables[name] = tableInfo{spelled, cols}
		return spelled, cols, nil
	}
	find := func(cols []columnInfo, name string) (columnInfo, bool) {
		for _, c := range cols {
			if strings.EqualFold(c.name, name) {
				return c, true
			}
		}
		return columnInfo{}, false
	}

	out := map[string]*resource{}
	for _, rc := range cfg.Resources {
		tableName, cols, err := table(rc.Table)
		if err != nil {
			return nil, fmt.Errorf("inspecting table %q: %w", rc.Table, err)
		}
		if len(cols) == 0 {
			fail(rc.TableRange, "resource %q: table %q does not exist", rc.Type, rc.Table)
			continue
		}
		r := &resource{name: rc.Type, table: tableName, idGen: rc.IDGeneration, tableCols: cols}
		if r.idGen == "" {
			r.idGen = idGenDatabase
		}
		idc, ok := find(cols, rc.IDColumn)
		if !ok {
			fail(rc.IDColumnRange, "resource %q: id_column %q is not a column of table %q", rc.Type, rc.IDColumn, rc.Table)
		} else {
			r.idCol = idc.name
			r.idAsCol = &column{attr: idc.name, name: idc.name, managed: true, info: idc, isTime: d.timeType(idc)}
			r.idInt = d.integerType(idc)
			r.idUUID = d.uuidType(idc)
			switch {
			case r.idInt && r.idGen == idGenUUID:
				fail(rc.IDGenerationRange, "resource %q: id_generation = %q needs a text or uuid id_column, %q is %s", rc.Type, idGenUUID, idc.name, idc.declType)
			case r.idGen == idGenDatabase && !r.idInt && !d.insertReturning() && rc.Create == nil:
				fail(rc.IDGenerationRange, "resource %q: this server has no INSERT ... RETURNING, so id_generation = %q needs an AUTO_INCREMENT integer id_column; %q is %s (use id_generation = %q)", rc.Type, idGenDatabase, idc.name, idc.declType, idGenUUID)
			}
		}
		newCol := func(c columnInfo, attr string, managed bool) *column {
			return &column{attr: attr, name: c.name, managed: managed, info: c, isTime: d.timeType(c)}
		}
		addCol := func(attr string, managed bool) *column {
			c, ok := find(cols, attr)
			if !ok {
				return nil
			}
			for _, have := range r.columns {
				if strings.EqualFold(have.name, c.name) {
					have.managed = have.managed || managed
					return have
				}
			}
			col := newCol(c, attr, managed)
			r.columns = append(r.columns, col)
			return col
		}
		var sdName string
		if rc.SoftDelete != nil {
			sdName = rc.SoftDelete.Column
		}
		if len(rc.Columns) > 0 {
			for _, name := range rc.Columns {
				if addCol(name, false) == nil {
					fail(rc.ColumnsRange, "resource %q: column %q is not a column of table %q", rc.Type, name, rc.Table)
				}
			}
		} else {
			for _, c := range cols {
				// The soft-delete marker is not an attribute unless listed.
				if !strings.EqualFold(c.name, rc.IDColumn) && !strings.EqualFold(c.name, sdName) {
					addCol(c.name, false)
				}
			}
		}
		if sd := rc.SoftDelete; sd != nil {
			c, ok := find(cols, sd.Column)
			if !ok {
				fail(sd.ColumnRange, "resource %q: soft_delete column %q is not a column of table %q", rc.Type, sd.Column, rc.Table)
			} else {
				r.softDel = &softDelete{col: newCol(c, c.name, false), value: sd.DeletedValue}
				if have, _ := r.attr(c.name); have != nil {
					r.softDel.col = have
				}
				if sd.DeletedValue == nil && !c.nullable {
					fail(sd.ColumnRange, "resource %q: soft_delete column %q is NOT NULL; without deleted_value it must be NULL on live rows", rc.Type, c.name)
				}
			}
		}
		for _, m := range []struct {
			name string
			rng  fmt.Stringer
			dst  **column
			what string
		}{
			{rc.CreatedColumn, rc.CreatedColumnRange, &r.created, "created_column"},
			{rc.ModifiedColumn, rc.ModifiedColumnRange, &r.updated, "modified_column"},
			{rc.VersionColumn, rc.VersionColumnRange, &r.version, "version_column"},
		} {
			if m.name == "" {
				continue
			}
			if strings.EqualFold(m.name, rc.IDColumn) {
				fail(m.rng, "resource %q: %s %q is the id_column", rc.Type, m.what, m.name)
				continue
			}
			if *m.dst = addCol(m.name, true); *m.dst == nil {
				fail(m.rng, "resource %q: %s %q is not a column of table %q", rc.Type, m.what, m.name, rc.Table)
			}
		}
		if r.version != nil && !d.integerType(r.version.info) {
			fail(rc.VersionColumnRange, "resource %q: version_column %q must be an integer column, it is %s", rc.Type, r.version.name, r.version.info.declType)
		}
		out[rc.Type] = r
	}
	// References, once every resource is known.
	for _, rc := range cfg.Resources {
		r := out[rc.Type]
		if r == nil {
			continue
		}
		for _, refc := range rc.References {
			if c, _ := r.attr(refc.Name); c != nil {
				fail(refc.NameRange, "resource %q: reference %q has the name of a column of table %q; list columns explicitly to hide it", rc.Type, refc.Name, rc.Table)
				continue
			}
			target := out[refc.Target]
			if target == nil {
				continue // reported already (unknown target or missing table)
			}
			ref := &reference{attr: refc.Name, owner: r, layout: refc.layout(), target: target, readOnly: refc.ReadOnly, sep: refc.Separator}
			switch ref.layout {
			case layoutJoin:
				joinTable, cols, err := table(refc.JoinTable)
				if err != nil {
					return nil, fmt.Errorf("inspecting table %q: %w", refc.JoinTable, err)
				}
				if len(cols) == 0 {
					fail(refc.JoinTableRange, "reference %q: join_table %q does not exist", refc.Name, refc.JoinTable)
					continue
				}
				this, ok1 := find(cols, refc.ThisColumn)
				if !ok1 {
					fail(refc.ThisColumnRange, "reference %q: this_column %q is not a column of table %q", refc.Name, refc.ThisColumn, refc.JoinTable)
				}
				other, ok2 := find(cols, refc.OtherColumn)
				if !ok2 {
					fail(refc.OtherColumnRange, "reference %q: other_column %q is not a column of table %q", refc.Name, refc.OtherColumn, refc.JoinTable)
				}
				if !ok1 || !ok2 {
					continue
				}
				ref.joinTable, ref.this, ref.other = joinTable, this.name, other.name
			case layoutFK:
				_, tcols, err := table(target.table)
				if err != nil {
					return nil, err
				}
				fk, ok := find(tcols, refc.ForeignKey)
				switch {
				case !ok:
					fail(refc.ForeignKeyRange, "reference %q: foreign_key %q is not a column of table %q (of %s)", refc.Name, refc.ForeignKey, target.table, target.name)
					continue
				case strings.EqualFold(fk.name, target.idCol):
					fail(refc.ForeignKeyRange, "reference %q: foreign_key %q is the id_column of %s", refc.Name, refc.ForeignKey, target.name)
					continue
				case !fk.nullable:
					fail(refc.ForeignKeyRange, "reference %q: foreign_key %q of table %q is NOT NULL; removing a member sets it to NULL", refc.Name, fk.name, target.table)
					continue
				}
				ref.joinTable, ref.this, ref.other = target.table, fk.name, target.idCol
				ref.col = newColInfo(d, fk)
			case layoutLocal, layoutDelim:
				name, rng := refc.LocalColumn, refc.LocalColumnRange
				if ref.layout == layoutDelim {
					name, rng = refc.Column, refc.ColumnRange
				}
				_, own, err := table(r.table)
				if err != nil {
					return nil, err
				}
				c, ok := find(own, name)
				if !ok {
					fail(rng, "reference %q: %s %q is not a column of table %q", refc.Name, ref.layout, name, r.table)
					continue
				}
				if have, _ := r.attr(c.name); have != nil {
					fail(rng, "resource %q: %s %q of reference %q is also an attribute; list columns explicitly to hide it", rc.Type, ref.layout, c.name, refc.Name)
					continue
				}
				ref.col = newColInfo(d, c)
				if ref.layout == layoutLocal {
					ref.joinTable, ref.this, ref.other = r.table, r.idCol, c.name
				} else if d.integerType(c) || d.uuidType(c) || d.timeType(c) {
					fail(rng, "reference %q: column %q must be a text column, it is %s", refc.Name, c.name, c.declType)
					continue
				}
			default:
				continue // reported by validate
			}
			r.refs = append(r.refs, ref)
		}
		for _, mv := range rc.MultiValues {
			if c, ref := r.attr(mv.Name); c != nil || ref != nil {
				fail(mv.NameRange, "resource %q: multi_value %q has the name of a column or reference; list columns explicitly to hide it", rc.Type, mv.Name)
				continue
			}
			child, cols, err := table(mv.Table)
			if err != nil {
				return nil, fmt.Errorf("inspecting table %q: %w", mv.Table, err)
			}
			if len(cols) == 0 {
				fail(mv.TableRange, "multi_value %q: table %q does not exist", mv.Name, mv.Table)
				continue
			}
			this, ok1 := find(cols, mv.ThisColumn)
			if !ok1 {
				fail(mv.ThisColumnRange, "multi_value %q: this_column %q is not a column of table %q", mv.Name, mv.ThisColumn, mv.Table)
			}
			val, ok2 := find(cols, mv.ValueColumn)
			if !ok2 {
				fail(mv.ValueColumnRange, "multi_value %q: value_column %q is not a column of table %q", mv.Name, mv.ValueColumn, mv.Table)
			}
			if !ok1 || !ok2 {
				continue
			}
			ref := &reference{attr: mv.Name, owner: r, layout: layoutValues,
				joinTable: child, this: this.name, other: val.name, col: newColInfo(d, val)}
			for _, name := range slices.Sorted(maps.Keys(mv.Where)) {
				c, ok := find(cols, name)
				if !ok {
					fail(mv.WhereRange, "multi_value %q: where column %q is not a column of table %q", mv.Name, name, mv.Table)
					continue
				}
				if strings.EqualFold(c.name, this.name) || strings.EqualFold(c.name, val.name) {
					continue // reported by validate
				}
				ref.fixed = append(ref.fixed, fixedValue{col: newColInfo(d, c), value: mv.Where[name]})
			}
			if mv.Add == nil && mv.Remove == nil {
				// The backend's INSERT sets this, value and where columns
				// only: any other column must take NULL or a default.
				set := map[string]bool{strings.ToLower(this.name): true, strings.ToLower(val.name): true}
				for _, f := range ref.fixed {
					set[strings.ToLower(f.col.name)] = true
				}
				for _, c := range cols {
					if c.nullable || c.hasDefault || set[strings.ToLower(c.name)] {
						continue
					}
					if _, lite := d.(sqliteDialect); lite && strings.EqualFold(c.declType, "integer") {
						continue // perhaps the rowid (INTEGER PRIMARY KEY), which SQLite fills
					}
					fail(mv.DefRange, "multi_value %q: column %q of table %q is NOT NULL without a default, and the rows this block inserts would not set it; give its value in where = { %s = \"...\" }", mv.Name, c.name, mv.Table, c.name)
				}
			}
			if l := mv.Lookup; l != nil {
				lt, lcols, err := table(l.Table)
				if err != nil {
					return nil, fmt.Errorf("inspecting table %q: %w", l.Table, err)
				}
				if len(lcols) == 0 {
					fail(l.TableRange, "multi_value %q: lookup table %q does not exist", mv.Name, l.Table)
					continue
				}
				k, ok1 := find(lcols, l.KeyColumn)
				if !ok1 {
					fail(l.KeyColumnRange, "multi_value %q: key_column %q is not a column of table %q", mv.Name, l.KeyColumn, l.Table)
				}
				v, ok2 := find(lcols, l.ValueColumn)
				if !ok2 {
					fail(l.ValueColumnRange, "multi_value %q: lookup value_column %q is not a column of table %q", mv.Name, l.ValueColumn, l.Table)
				}
				if ok2 && (d.integerType(v) || d.uuidType(v) || d.timeType(v)) {
					fail(l.ValueColumnRange, "multi_value %q: lookup value_column %q must be a text column, it is %s", mv.Name, v.name, v.declType)
					ok2 = false
				}
				if !ok1 || !ok2 {
					continue
				}
				ref.lookup = &lookup{table: lt, key: ref.col, keyCol: k.name, valueCol: v.name}
				ref.col = newColInfo(d, v)
			}
			r.refs = append(r.refs, ref)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("sql backend configuration does not match the database:\n  %s", strings.Join(problems, "\n  "))
	}
	for _, rc := range cfg.Resources {
		for _, ref := range out[rc.Type].refs { // every resource is there: no problems
			ref.owner.refsOn = append(ref.owner.refsOn, ref)
			if t := ref.target; t != nil && t != ref.owner {
				t.refsOn = append(t.refsOn, ref)
			}
		}
	}
	return out, nil
}
