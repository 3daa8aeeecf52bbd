-- PostgreSQL schema of "HRPortal", an in-house personnel application that
-- predates SCIM. scimbridge maps onto it as it is (see postgres.hcl); the
-- application keeps using the same tables.
--
--   psql "$DATABASE_URL" -f examples/postgres-legacy-schema.sql
--
-- Conventions of the original developers: abbreviated column names, a
-- one-letter status code (A = active, D = disabled), soft deletion through
-- del_ts, a row version for the application's optimistic locking, and team
-- membership in a join table.

CREATE TABLE hr_person (
    person_no      serial       PRIMARY KEY,
    logon_nm       varchar(80)  NOT NULL,
    frst_nm        varchar(60),
    lst_nm         varchar(60),
    full_nm        varchar(140),
    email_addr_txt varchar(254),
    email_alt_txt  varchar(254),
    tel_wrk        varchar(30),
    tel_cell       varchar(30),
    job_ttl        varchar(100),
    stat_cd        char(1)      NOT NULL DEFAULT 'A' CHECK (stat_cd IN ('A', 'D')),
    emp_nbr        varchar(20),
    dept_nm        varchar(60),
    mgr_person_no  integer      REFERENCES hr_person (person_no),
    ext_src_id     varchar(64),
    pwd_hash       varchar(100),
    crt_ts         timestamptz  NOT NULL DEFAULT now(),
    upd_ts         timestamptz,
    del_ts         timestamptz,
    rec_ver        integer      NOT NULL DEFAULT 0
);
-- Log-on names are unique among the people who have not been deleted,
-- whatever the case: a deleted person's name can be given again.
CREATE UNIQUE INDEX hr_person_logon_uk ON hr_person (lower(logon_nm)) WHERE del_ts IS NULL;
CREATE INDEX hr_person_email_ix ON hr_person (lower(email_addr_txt));

CREATE TABLE hr_team (
    team_id    serial       PRIMARY KEY,
    team_nm    varchar(100) NOT NULL,
    team_desc  text,
    ext_src_id varchar(64),
    crt_ts     timestamptz  NOT NULL DEFAULT now(),
    upd_ts     timestamptz
);
CREATE UNIQUE INDEX hr_team_nm_uk ON hr_team (lower(team_nm));

CREATE TABLE hr_team_member (
    team_id   integer     NOT NULL REFERENCES hr_team (team_id) ON DELETE CASCADE,
    person_no integer     NOT NULL REFERENCES hr_person (person_no),
    added_ts  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, person_no)
);
CREATE INDEX hr_team_member_person_ix ON hr_team_member (person_no);
