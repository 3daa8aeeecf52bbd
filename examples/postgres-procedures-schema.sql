-- PostgreSQL schema of "TimeTrack", a time-recording application whose
-- database rules say: nobody but the application's own procedures writes
-- its tables. Every change goes through a SECURITY DEFINER procedure that
-- checks it and writes a row to tt_audit; other accounts may only read.
-- scimbridge maps onto it as it is (see postgres-procedures.hcl): it reads
-- the tables and writes by calling the procedures.
--
--   psql "$ADMIN_DATABASE_URL" -c "CREATE ROLE timetrack_scim LOGIN PASSWORD '...'"
--   psql "$ADMIN_DATABASE_URL" -f examples/postgres-procedures-schema.sql
--
-- The grants at the end are all the bridge's account (timetrack_scim)
-- needs: SELECT on three tables, EXECUTE on the procedures.

CREATE TABLE tt_employee (
    emp_id         serial       PRIMARY KEY,
    login_nm       varchar(80)  NOT NULL,
    given_nm       varchar(60),
    family_nm      varchar(60),
    display_nm     varchar(140),
    email_txt      varchar(254),
    mobile_txt     varchar(30),
    job_title      varchar(100),
    badge_no       varchar(20),
    manager_emp_id integer      REFERENCES tt_employee (emp_id),
    ext_ref        varchar(64),
    pwd_hash       varchar(100),
    -- A = active, L = locked (may not record time), X = removed
    status_cd      char(1)      NOT NULL DEFAULT 'A' CHECK (status_cd IN ('A', 'L', 'X')),
    created_ts     timestamptz  NOT NULL DEFAULT now(),
    changed_ts     timestamptz
);
-- Log-on names are unique among the employees not removed.
CREATE UNIQUE INDEX tt_employee_login_uk ON tt_employee (lower(login_nm)) WHERE status_cd <> 'X';

CREATE TABLE tt_team (
    team_id    serial       PRIMARY KEY,
    team_nm    varchar(100) NOT NULL,
    ext_ref    varchar(64),
    created_ts timestamptz  NOT NULL DEFAULT now(),
    changed_ts timestamptz
);
CREATE UNIQUE INDEX tt_team_nm_uk ON tt_team (lower(team_nm));

CREATE TABLE tt_team_member (
    team_id   integer     NOT NULL REFERENCES tt_team (team_id),
    emp_id    integer     NOT NULL REFERENCES tt_employee (emp_id),
    since_ts  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, emp_id)
);
CREATE INDEX tt_team_member_emp_ix ON tt_team_member (emp_id);

-- Who did what, written by the procedures only. actor is the account that
-- called the procedure (session_user: the caller, not the definer).
CREATE TABLE tt_audit (
    audit_id  bigserial   PRIMARY KEY,
    at_ts     timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL DEFAULT session_user,
    action    text        NOT NULL,
    object_id text        NOT NULL,
    detail    text
);

-- Employees.

CREATE FUNCTION tt_employee_create(p_login text, p_given text, p_family text, p_display text, p_email text,
                                   p_mobile text, p_title text, p_badge text, p_manager integer, p_ext_ref text,
                                   p_pwd_hash text, p_status char(1))
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_id integer;
BEGIN
    IF p_login ~ '\s' THEN
        RAISE EXCEPTION 'log-on name "%" contains white space', p_login;
    END IF;
    INSERT INTO tt_employee (login_nm, given_nm, family_nm, display_nm, email_txt, mobile_txt, job_title, badge_no,
                             manager_emp_id, ext_ref, pwd_hash, status_cd, changed_ts)
    VALUES (p_login, p_given, p_family, p_display, p_email, p_mobile, p_title, p_badge,
            p_manager, p_ext_ref, p_pwd_hash, COALESCE(p_status, 'A'), now())
    RETURNING emp_id INTO v_id;
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('employee.create', v_id, p_login);
    RETURN v_id;
END $$;

CREATE PROCEDURE tt_employee_update(p_emp_id integer, p_login text, p_given text, p_family text, p_display text,
                                    p_email text, p_mobile text, p_title text, p_badge text, p_manager integer, p_ext_ref text,
                                    p_pwd_hash text, p_status char(1))
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_login ~ '\s' THEN
        RAISE EXCEPTION 'log-on name "%" contains white space', p_login;
    END IF;
    UPDATE tt_employee
       SET login_nm = p_login, given_nm = p_given, family_nm = p_family, display_nm = p_display,
           email_txt = p_email, mobile_txt = p_mobile, job_title = p_title, badge_no = p_badge, manager_emp_id = p_manager,
           ext_ref = p_ext_ref, pwd_hash = p_pwd_hash, status_cd = p_status, changed_ts = now()
     WHERE emp_id = p_emp_id AND status_cd <> 'X';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no employee %', p_emp_id;
    END IF;
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('employee.update', p_emp_id, p_login);
END $$;

-- Employees are never deleted: they are marked removed and leave their teams.
CREATE PROCEDURE tt_employee_remove(p_emp_id integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO tt_audit (action, object_id, detail)
    SELECT 'team.leave', team_id, emp_id FROM tt_team_member WHERE emp_id = p_emp_id ORDER BY team_id;
    DELETE FROM tt_team_member WHERE emp_id = p_emp_id;
    UPDATE tt_employee SET status_cd = 'X', changed_ts = now() WHERE emp_id = p_emp_id AND status_cd <> 'X';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no employee %', p_emp_id;
    END IF;
    INSERT INTO tt_audit (action, object_id) VALUES ('employee.remove', p_emp_id);
END $$;

-- Teams.

CREATE FUNCTION tt_team_create(p_name text, p_ext_ref text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_id integer;
BEGIN
    INSERT INTO tt_team (team_nm, ext_ref, changed_ts) VALUES (p_name, p_ext_ref, now()) RETURNING team_id INTO v_id;
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('team.create', v_id, p_name);
    RETURN v_id;
END $$;

CREATE PROCEDURE tt_team_update(p_team_id integer, p_name text, p_ext_ref text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE tt_team SET team_nm = p_name, ext_ref = p_ext_ref, changed_ts = now() WHERE team_id = p_team_id;
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('team.update', p_team_id, p_name);
END $$;

CREATE PROCEDURE tt_team_drop(p_team_id integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO tt_audit (action, object_id, detail)
    SELECT 'team.leave', team_id, emp_id FROM tt_team_member WHERE team_id = p_team_id ORDER BY emp_id;
    DELETE FROM tt_team_member WHERE team_id = p_team_id;
    DELETE FROM tt_team WHERE team_id = p_team_id;
    INSERT INTO tt_audit (action, object_id) VALUES ('team.drop', p_team_id);
END $$;

CREATE PROCEDURE tt_team_join(p_team_id integer, p_emp_id integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO tt_team_member (team_id, emp_id) VALUES (p_team_id, p_emp_id);
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('team.join', p_team_id, p_emp_id);
END $$;

CREATE PROCEDURE tt_team_leave(p_team_id integer, p_emp_id integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM tt_team_member WHERE team_id = p_team_id AND emp_id = p_emp_id;
    INSERT INTO tt_audit (action, object_id, detail) VALUES ('team.leave', p_team_id, p_emp_id);
END $$;

-- The bridge's account reads the tables and calls the procedures, nothing more.
REVOKE EXECUTE ON ROUTINE tt_employee_create, tt_employee_update, tt_employee_remove,
    tt_team_create, tt_team_update, tt_team_drop, tt_team_join, tt_team_leave FROM PUBLIC;
GRANT EXECUTE ON ROUTINE tt_employee_create, tt_employee_update, tt_employee_remove,
    tt_team_create, tt_team_update, tt_team_drop, tt_team_join, tt_team_leave TO timetrack_scim;
GRANT SELECT ON tt_employee, tt_team, tt_team_member TO timetrack_scim;
