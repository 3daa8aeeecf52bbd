package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge/scimtest"
)

func TestGoldenMemory(t *testing.T) {
	_, c, mem := startMemory(t)
	scimtest.RunGolden(t, &scimtest.Target{
		Client: c, Backend: mem,
		UserName: "uid", GivenName: "givenName", FamilyName: "sn", Email: "mail",
		Active: "status", ActiveTrue: "enabled", ActiveFalse: "disabled", Password: "userPassword",
		EmployeeNumber: "employeeNumber", Manager: "manager", Mobile: "mobile",
		GroupName: "cn", Members: "member",
	})
}
