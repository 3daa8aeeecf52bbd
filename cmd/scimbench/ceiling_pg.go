package main

// The ceiling proxy on PostgreSQL: the HTTP side of ceiling.go over a pgx
// pool (the example's max_open_conns), one query per request that reads
// the user's row and its teams, as the bridge reads them; a PATCH is one
// UPDATE ... RETURNING of the same.

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const pgCeilingCols = `p.person_no, p.logon_nm, p.frst_nm, p.lst_nm, p.full_nm, p.email_addr_txt, p.email_alt_txt,
 p.tel_wrk, p.tel_cell, p.job_ttl, p.stat_cd, p.emp_nbr, p.dept_nm, p.mgr_person_no, p.ext_src_id, p.crt_ts, p.upd_ts,
 ARRAY(SELECT m.team_id FROM hr_team_member m WHERE m.person_no = p.person_no ORDER BY m.team_id)`

const pgCeilingQuery = "SELECT " + pgCeilingCols + " FROM hr_person p WHERE p.del_ts IS NULL AND "

type pgCeiling struct {
	pool     *pgxpool.Pool
	location string
}

func startPGCeiling(ctx context.Context, dbURL, token string, poolSize int32, clientConns int) (*ceilingProxy, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = poolSize
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pc := &pgCeiling{pool: pool}
	p, err := serveCeiling(token, clientConns, pc.find, pool.Close)
	if err != nil {
		return nil, err
	}
	pc.location = p.url
	p.patch = pc.patch
	return p, nil
}

// patch is one UPDATE ... RETURNING: active (stat_cd, as the example
// maps it) or title, the version and modified columns as the bridge sets
// them.
func (pc *pgCeiling) patch(ctx context.Context, id, attr string, value any) ([]ceilingUser, error) {
	var col string
	var arg any
	switch v := value.(type) {
	case bool:
		if attr != "active" {
			return nil, errCeilingPatch
		}
		col, arg = "stat_cd", "D"
		if v {
			arg = "A"
		}
	case string:
		if attr != "title" {
			return nil, errCeilingPatch
		}
		col, arg = "job_ttl", v
	default:
		return nil, errCeilingPatch
	}
	key, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, nil
	}
	rows, err := pc.pool.Query(ctx, "UPDATE hr_person AS p SET "+col+" = $1, upd_ts = $2, rec_ver = COALESCE(rec_ver, 0) + 1 WHERE p.person_no = $3 AND p.del_ts IS NULL RETURNING "+pgCeilingCols,
		arg, time.Now().UTC(), key)
	if err != nil {
		return nil, err
	}
	return pc.users(rows)
}

func (pc *pgCeiling) find(ctx context.Context, by, value string) ([]ceilingUser, error) {
	var q string
	var arg any
	if by == "userName" {
		q, arg = pgCeilingQuery+"lower(p.logon_nm) = lower($1) ORDER BY p.person_no LIMIT 100", value
	} else {
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, nil
		}
		q, arg = pgCeilingQuery+"p.person_no = $1", id
	}
	rows, err := pc.pool.Query(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	return pc.users(rows)
}

// users reads the rows of pgCeilingCols.
func (pc *pgCeiling) users(rows pgx.Rows) ([]ceilingUser, error) {
	defer rows.Close()
	var users []ceilingUser
	for rows.Next() {
		var id int64
		var login, given, family, display, mail, alt, telW, telC, title, status, emp, dept, ext *string
		var mgr *int64
		var created, modified *time.Time
		var teams []int64
		if err := rows.Scan(&id, &login, &given, &family, &display, &mail, &alt, &telW, &telC, &title, &status, &emp, &dept,
			&mgr, &ext, &created, &modified, &teams); err != nil {
			return nil, err
		}
		str := func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		}
		u := ceilingUser{Schemas: []string{ldapCoreUser}, ID: strconv.FormatInt(id, 10), UserName: str(login),
			DisplayName: str(display), Title: str(title), Active: str(status) != "D", ExternalID: str(ext)}
		if given != nil || family != nil {
			u.Name = &ceilingName{GivenName: str(given), FamilyName: str(family)}
		}
		if mail != nil {
			u.Emails = append(u.Emails, ceilingValue{Type: "work", Value: *mail})
		}
		if alt != nil {
			u.Emails = append(u.Emails, ceilingValue{Type: "home", Value: *alt})
		}
		if telW != nil {
			u.PhoneNumbers = append(u.PhoneNumbers, ceilingValue{Type: "work", Value: *telW})
		}
		if telC != nil {
			u.PhoneNumbers = append(u.PhoneNumbers, ceilingValue{Type: "mobile", Value: *telC})
		}
		for _, t := range teams {
			u.Groups = append(u.Groups, ceilingValue{Value: strconv.FormatInt(t, 10)})
		}
		if emp != nil || dept != nil || mgr != nil {
			u.Enterprise = &ceilingEnterprise{EmployeeNumber: str(emp), Department: str(dept)}
			if mgr != nil {
				u.Enterprise.Manager = &ceilingValue{Value: strconv.FormatInt(*mgr, 10)}
			}
		}
		u.Meta.ResourceType = "User"
		if created != nil {
			u.Meta.Created = created.UTC().Format(time.RFC3339)
		}
		if modified != nil {
			u.Meta.LastModified = modified.UTC().Format(time.RFC3339)
		}
		u.Meta.Location = pc.location + "/Users/" + u.ID
		users = append(users, u)
	}
	return users, rows.Err()
}
