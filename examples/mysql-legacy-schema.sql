-- MySQL / MariaDB schema of "CRM3", a customer-relationship application
-- whose user administration predates SCIM. scimbridge maps onto it as it
-- is (see mysql.hcl); the application keeps using the same tables.
--
--   mysql -h HOST -u USER -p DBNAME < examples/mysql-legacy-schema.sql
--
-- Conventions of the original developers: upper-case names with a table
-- prefix, a status code USR_STATUS (A = active, I = inactive, D = deleted:
-- deleted users are kept for the audit trail), a version counter, and
-- group membership in a join table. Log-on names are unique over all rows,
-- deleted ones included, so a deleted log-on name cannot be given again.

CREATE TABLE TBL_USR (
    USR_ID       INT UNSIGNED  NOT NULL AUTO_INCREMENT,
    USR_LOGIN    VARCHAR(80)   NOT NULL,
    USR_FNAME    VARCHAR(60)   NULL,
    USR_LNAME    VARCHAR(60)   NULL,
    USR_DISPNAME VARCHAR(140)  NULL,
    USR_MAIL     VARCHAR(254)  NULL,
    USR_MAIL2    VARCHAR(254)  NULL,
    USR_PHONE    VARCHAR(30)   NULL,
    USR_MOBILE   VARCHAR(30)   NULL,
    USR_TITLE    VARCHAR(100)  NULL,
    USR_STATUS   CHAR(1)       NOT NULL DEFAULT 'A' COMMENT 'A=active, I=inactive, D=deleted',
    USR_EMPNO    VARCHAR(20)   NULL,
    USR_DEPT     VARCHAR(60)   NULL,
    USR_MGR_ID   INT UNSIGNED  NULL,
    USR_EXTID    VARCHAR(64)   NULL,
    USR_PWD      VARCHAR(100)  NULL,
    USR_CREATED  DATETIME      NULL,
    USR_UPDATED  DATETIME      NULL,
    USR_VERSION  INT           NOT NULL DEFAULT 0,
    PRIMARY KEY (USR_ID),
    UNIQUE KEY UK_USR_LOGIN (USR_LOGIN),
    KEY IX_USR_MAIL (USR_MAIL),
    CONSTRAINT CK_USR_STATUS CHECK (USR_STATUS IN ('A', 'I', 'D')),
    CONSTRAINT FK_USR_MGR FOREIGN KEY (USR_MGR_ID) REFERENCES TBL_USR (USR_ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE TBL_GRP (
    GRP_ID      INT UNSIGNED NOT NULL AUTO_INCREMENT,
    GRP_NAME    VARCHAR(100) NOT NULL,
    GRP_DESC    TEXT         NULL,
    GRP_EXTID   VARCHAR(64)  NULL,
    GRP_CREATED DATETIME     NULL,
    GRP_UPDATED DATETIME     NULL,
    PRIMARY KEY (GRP_ID),
    UNIQUE KEY UK_GRP_NAME (GRP_NAME)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE TBL_GRP_USR (
    GRP_ID   INT UNSIGNED NOT NULL,
    USR_ID   INT UNSIGNED NOT NULL,
    ADDED_AT TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (GRP_ID, USR_ID),
    KEY IX_GRP_USR_USR (USR_ID),
    CONSTRAINT FK_GRP_USR_GRP FOREIGN KEY (GRP_ID) REFERENCES TBL_GRP (GRP_ID) ON DELETE CASCADE,
    CONSTRAINT FK_GRP_USR_USR FOREIGN KEY (USR_ID) REFERENCES TBL_USR (USR_ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
