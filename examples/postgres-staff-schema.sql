-- StaffBase: the personnel database of a mid-sized company, as found.
-- Loaded by the tests into a fresh PostgreSQL database; examples/postgres-staff.hcl
-- maps it as it is: no views, no procedures, no columns added for the bridge.
--
-- What makes it legacy:
--   * status is one letter with four states: E (employed), L (on leave: still
--     an active account), S (suspended) and X (left the company: the row stays,
--     for payroll history);
--   * departments are codes, their names in a table HR maintains;
--   * phone numbers live in a child table, one row per number, with a kind
--     (W work, M mobile, H home, which the IdP never sees);
--   * roles are rows of a join table that point into a roles table;
--   * time stamps are "timestamp without time zone", in the head office's
--     local time (Europe/Berlin).

CREATE TABLE departments (
    dept_cd  varchar(8)   PRIMARY KEY,
    dept_nm  varchar(100) NOT NULL UNIQUE
);
INSERT INTO departments VALUES
    ('ENG', 'Engineering'), ('SLS', 'Sales'), ('FIN', 'Finance'), ('HRM', 'Human Resources'),
    ('RND', 'R&D'), ('RES', 'Research'), ('ART', 'Art');

CREATE TABLE staff (
    staff_no    serial        PRIMARY KEY,
    logon       varchar(256)  NOT NULL,
    given_nm    varchar(100),
    family_nm   varchar(100)  NOT NULL,
    mail        varchar(256),
    status      char(1)       NOT NULL DEFAULT 'E' CHECK (status IN ('E', 'L', 'S', 'X')),
    dept_cd     varchar(8)    REFERENCES departments (dept_cd),
    job_title   varchar(100),
    payroll_no  varchar(20),
    manager_no  integer       REFERENCES staff (staff_no),
    ext_ref     varchar(256),
    pw_hash     varchar(100),
    created_at  timestamp without time zone NOT NULL DEFAULT localtimestamp,
    changed_at  timestamp without time zone NOT NULL DEFAULT localtimestamp
);
-- A log-on name is unique among the people who have not left.
CREATE UNIQUE INDEX staff_logon ON staff (lower(logon)) WHERE status <> 'X';

CREATE TABLE phones (
    owner   integer     NOT NULL REFERENCES staff (staff_no),
    kind    char(1)     NOT NULL CHECK (kind IN ('W', 'M', 'H')),
    number  varchar(40) NOT NULL,
    PRIMARY KEY (owner, kind, number)
);

CREATE TABLE roles (
    role_id    serial      PRIMARY KEY,
    role_name  varchar(60) NOT NULL UNIQUE
);
INSERT INTO roles (role_name) VALUES ('employee'), ('manager'), ('auditor'), ('admin'), ('reader'), ('writer');

CREATE TABLE person_roles (
    person   integer NOT NULL REFERENCES staff (staff_no),
    role_id  integer NOT NULL REFERENCES roles (role_id),
    PRIMARY KEY (person, role_id)
);

CREATE TABLE teams (
    team_id  serial       PRIMARY KEY,
    team_nm  varchar(100) NOT NULL,
    ext_ref  varchar(256)
);
CREATE UNIQUE INDEX teams_name ON teams (lower(team_nm));

CREATE TABLE team_members (
    team_id   integer NOT NULL REFERENCES teams (team_id),
    staff_no  integer NOT NULL REFERENCES staff (staff_no),
    PRIMARY KEY (team_id, staff_no)
);
