package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/hashicorp/go-hclog"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// The token store of the OAuth 2.0 authorization server (oauth2.go): one
// table, one row per authorization code, access token and refresh token,
// keyed by the SHA-256 of the token. No token is ever stored: what the
// library hands over is hashed before it reaches the database, and the
// token information it gets back names the sibling tokens of a grant by
// their hashes only (hashRef). Every row of one grant, through its
// refreshes, shares a family, so that revoking a refresh token, or
// presenting a rotated one again, ends the whole grant.

const oauth2Table = "scimbridge_oauth2_tokens"

// Kinds of rows.
const (
	kindCode    = "code"
	kindAccess  = "access"
	kindRefresh = "refresh"
)

// hashRefPrefix marks a token named by its hash (a sibling of the token
// looked up); generated tokens never start with it.
const hashRefPrefix = "sha256:"

// Prefixes of the values the server generates: access tokens are told
// from static tokens and JWTs by theirs.
const (
	oauth2AccessPrefix  = "sboa_"
	oauth2RefreshPrefix = "sbor_"
	oauth2CodePrefix    = "sboc_"
)

// oauth2DB is one opened store, shared by the endpoints that name it.
type oauth2DB struct {
	db     *sql.DB
	driver string
	mu     sync.Mutex
	purged time.Time
}

// openOAuth2DB opens (and creates the table of) a store.
func openOAuth2DB(ctx context.Context, driver, dsn string) (*oauth2DB, error) {
	if driver == "sqlite" {
		// One writer at a time, waiting for the lock rather than failing.
		dsn = "file:" + dsn + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		db.SetMaxOpenConns(1)
	}
	d := &oauth2DB{db: db, driver: driver}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for _, q := range d.schema() {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("creating the table %s: %w", oauth2Table, err)
		}
	}
	return d, nil
}

func (d *oauth2DB) schema() []string {
	cols := `hash VARCHAR(64) NOT NULL PRIMARY KEY,
  kind VARCHAR(8) NOT NULL,
  endpoint VARCHAR(255) NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  family VARCHAR(64) NOT NULL,
  expires_at BIGINT NOT NULL,
  used SMALLINT NOT NULL DEFAULT 0,
  data TEXT NOT NULL`
	if d.driver == "mysql" {
		return []string{`CREATE TABLE IF NOT EXISTS ` + oauth2Table + ` (` + cols + `,
  INDEX ` + oauth2Table + `_family (endpoint(191), family),
  INDEX ` + oauth2Table + `_client (endpoint(191), client_id(191)))`}
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + oauth2Table + ` (` + cols + `)`,
		`CREATE INDEX IF NOT EXISTS ` + oauth2Table + `_family ON ` + oauth2Table + ` (endpoint, family)`,
		`CREATE INDEX IF NOT EXISTS ` + oauth2Table + `_client ON ` + oauth2Table + ` (endpoint, client_id)`,
	}
}

// q rewrites ? placeholders for PostgreSQL.
func (d *oauth2DB) q(query string) string {
	if d.driver != "pgx" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d *oauth2DB) Close() error { return d.db.Close() }

// oauth2Store is one endpoint's view of a store: oauth2.TokenStore.
type oauth2Store struct {
	d        *oauth2DB
	endpoint string
	log      hclog.Logger
	now      func() time.Time
	// keys are the keys of the clients (oauth2Client.key) by client_id:
	// each row is stamped with its client's.
	keys map[string]string
}

// clientKeyField is where a token's client key travels in the token
// information the library hands back (as the family does).
const clientKeyField = "client_key"

// tokenHash is the key of a token, or of a hashRef.
func tokenHash(v string) string {
	if h, ok := strings.CutPrefix(v, hashRefPrefix); ok {
		return h
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func hashRef(v string) string {
	if v == "" || strings.HasPrefix(v, hashRefPrefix) {
		return v
	}
	return hashRefPrefix + tokenHash(v)
}

func randomToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Create stores a grant's code, or its access and refresh tokens.
func (st *oauth2Store) Create(ctx context.Context, info oauth2.TokenInfo) error {
	t, ok := info.(*models.Token)
	if !ok {
		return fmt.Errorf("oauth2 store: unexpected token type %T", info)
	}
	if t.Extension == nil {
		t.Extension = url.Values{}
	}
	family := t.Extension.Get("family")
	if family == "" {
		f, err := randomToken("")
		if err != nil {
			return err
		}
		family = f
		t.Extension.Set("family", family)
	}
	rec := *t
	rec.Code, rec.Access, rec.Refresh = hashRef(t.Code), hashRef(t.Access), hashRef(t.Refresh)
	rec.Extension = nil
	data, err := json.Marshal(struct {
		*models.Token
		Family    string
		ClientKey string
	}{&rec, family, st.keys[t.ClientID]})
	if err != nil {
		return err
	}
	type row struct {
		kind, value string
		exp         time.Time
	}
	var rows []row
	if v := t.Code; v != "" && !strings.HasPrefix(v, hashRefPrefix) {
		rows = append(rows, row{kindCode, v, t.CodeCreateAt.Add(t.CodeExpiresIn)})
	}
	if v := t.Access; v != "" && !strings.HasPrefix(v, hashRefPrefix) {
		rows = append(rows, row{kindAccess, v, t.AccessCreateAt.Add(t.AccessExpiresIn)})
	}
	if v := t.Refresh; v != "" && !strings.HasPrefix(v, hashRefPrefix) {
		rows = append(rows, row{kindRefresh, v, t.RefreshCreateAt.Add(t.RefreshExpiresIn)})
	}
	st.purge(ctx)
	tx, err := st.d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, st.d.q(`INSERT INTO `+oauth2Table+` (hash, kind, endpoint, client_id, family, expires_at, used, data) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`),
			tokenHash(r.value), r.kind, st.endpoint, t.ClientID, family, r.exp.Unix(), string(data)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// purge drops the rows past their expiry, at most once a minute.
func (st *oauth2Store) purge(ctx context.Context) {
	now := st.now()
	st.d.mu.Lock()
	if now.Sub(st.d.purged) < time.Minute {
		st.d.mu.Unlock()
		return
	}
	st.d.purged = now
	st.d.mu.Unlock()
	if _, err := st.d.db.ExecContext(ctx, st.d.q(`DELETE FROM `+oauth2Table+` WHERE expires_at < ?`), now.Unix()); err != nil {
		st.log.Warn("purging expired oauth2 tokens failed", "error", err)
	}
}

// get loads the grant of a token of kind; the token's own field is set to
// the value presented (the library compares them), its siblings are
// hashRefs. used reports a refresh token already rotated.
func (st *oauth2Store) get(ctx context.Context, kind, value string) (t *models.Token, family string, used bool, err error) {
	var data string
	var u int
	err = st.d.db.QueryRowContext(ctx, st.d.q(`SELECT data, family, used FROM `+oauth2Table+` WHERE hash = ? AND kind = ? AND endpoint = ?`),
		tokenHash(value), kind, st.endpoint).Scan(&data, &family, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	t = models.NewToken()
	var key struct{ ClientKey string }
	if err := json.Unmarshal([]byte(data), t); err != nil {
		return nil, "", false, err
	}
	if err := json.Unmarshal([]byte(data), &key); err != nil {
		return nil, "", false, err
	}
	if t.Extension == nil {
		t.Extension = url.Values{}
	}
	t.Extension.Set("family", family)
	t.Extension.Set(clientKeyField, key.ClientKey)
	switch kind {
	case kindCode:
		t.Code = value
	case kindAccess:
		t.Access = value
	case kindRefresh:
		t.Refresh = value
	}
	return t, family, u != 0, nil
}

// GetByCode implements oauth2.TokenStore.
func (st *oauth2Store) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	t, _, _, err := st.get(ctx, kindCode, code)
	if t == nil || err != nil {
		return nil, err
	}
	return t, nil
}

// GetByAccess implements oauth2.TokenStore.
func (st *oauth2Store) GetByAccess(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	t, _, _, err := st.get(ctx, kindAccess, access)
	if t == nil || err != nil {
		return nil, err
	}
	return t, nil
}

// GetByRefresh implements oauth2.TokenStore. A refresh token that was
// already rotated is being replayed (stolen, or a client gone astray):
// the whole grant is revoked and the token refused.
func (st *oauth2Store) GetByRefresh(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	t, family, used, err := st.get(ctx, kindRefresh, refresh)
	if t == nil || err != nil {
		return nil, err
	}
	if used {
		st.log.Warn("oauth2: a refresh token was used again after its rotation; the grant is revoked (the client must be authorized again)",
			"client_id", t.ClientID)
		if err := st.revokeFamily(ctx, family); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return t, nil
}

// RemoveByCode implements oauth2.TokenStore; a code already removed (used
// by a concurrent exchange) is refused, so that a code is used once.
func (st *oauth2Store) RemoveByCode(ctx context.Context, code string) error {
	res, err := st.d.db.ExecContext(ctx, st.d.q(`DELETE FROM `+oauth2Table+` WHERE hash = ? AND kind = ? AND endpoint = ?`),
		tokenHash(code), kindCode, st.endpoint)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return oerrors.ErrInvalidAuthorizeCode
	}
	return nil
}

// RemoveByAccess implements oauth2.TokenStore.
func (st *oauth2Store) RemoveByAccess(ctx context.Context, access string) error {
	_, err := st.d.db.ExecContext(ctx, st.d.q(`DELETE FROM `+oauth2Table+` WHERE hash = ? AND kind = ? AND endpoint = ?`),
		tokenHash(access), kindAccess, st.endpoint)
	return err
}

// RemoveByRefresh implements oauth2.TokenStore, for the rotation of a
// refresh token: the row stays, marked used until it expires, so that a
// replay is recognised (GetByRefresh). When a concurrent request rotated
// it first, the grant is revoked and the request refused.
func (st *oauth2Store) RemoveByRefresh(ctx context.Context, refresh string) error {
	res, err := st.d.db.ExecContext(ctx, st.d.q(`UPDATE `+oauth2Table+` SET used = 1 WHERE hash = ? AND kind = ? AND endpoint = ? AND used = 0`),
		tokenHash(refresh), kindRefresh, st.endpoint)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if t, family, _, err := st.get(ctx, kindRefresh, refresh); err == nil && t != nil {
			_ = st.revokeFamily(ctx, family)
		}
		return oerrors.ErrInvalidRefreshToken
	}
	return nil
}

func (st *oauth2Store) revokeFamily(ctx context.Context, family string) error {
	_, err := st.d.db.ExecContext(ctx, st.d.q(`DELETE FROM `+oauth2Table+` WHERE endpoint = ? AND family = ?`), st.endpoint, family)
	return err
}

// lookup finds a token of any kind: its kind, client and family.
func (st *oauth2Store) lookup(ctx context.Context, value string) (kind, clientID, family string, err error) {
	err = st.d.db.QueryRowContext(ctx, st.d.q(`SELECT kind, client_id, family FROM `+oauth2Table+` WHERE hash = ? AND endpoint = ?`),
		tokenHash(value), st.endpoint).Scan(&kind, &clientID, &family)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", nil
	}
	return kind, clientID, family, err
}

// RevokeOAuth2Client deletes every code and token a client of an endpoint
// holds in a store (`scimbridge oauth2 revoke`); it returns how many.
func RevokeOAuth2Client(ctx context.Context, driver, dsn, endpoint, clientID string) (int64, error) {
	d, err := openOAuth2DB(ctx, driver, dsn)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM `+oauth2Table+` WHERE endpoint = ? AND client_id = ?`), endpoint, clientID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CheckOAuth2Store opens an oauth2 token store as serve does, creating its
// table when missing, and reads the table (`validate --live`).
func CheckOAuth2Store(ctx context.Context, driver, dsn string) error {
	d, err := openOAuth2DB(ctx, driver, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var n int
	if err := d.db.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM `+oauth2Table+` WHERE hash = ?`), "").Scan(&n); err != nil {
		return fmt.Errorf("reading the table %s: %w", oauth2Table, err)
	}
	return nil
}
