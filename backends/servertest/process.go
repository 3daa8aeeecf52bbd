package servertest

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a test server's child process, run in its own process group
// so that a kill reaches every process it forks.
type Process struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd in a new process group and waits until ready says yes,
// the process exits, or timeout passes (then the group is killed).
func (p *Process) Start(cmd *exec.Cmd, ready func() error, timeout time.Duration) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("%s exited: %v", cmd.Path, cmd.ProcessState)
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("%s not ready after %v: %w", cmd.Path, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Process) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.done
}

// Signal sends sig to the server and waits up to wait for it to exit, then
// kills its whole group.
func (p *Process) Signal(sig syscall.Signal, wait time.Duration) {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(wait):
		p.Kill()
	}
}

// Kill kills the whole process group with SIGKILL and waits for it.
func (p *Process) Kill() {
	cmd, done := p.current()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// Restart waits for the current process to exit and runs start again,
// retrying while the old listener lets go of its port.
func (p *Process) Restart(start func() error) error {
	if _, done := p.current(); done != nil {
		<-done
	}
	err := errors.New("not started")
	for range 50 {
		if err = start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// PID is the server's process id (also its process group id), 0 when it
// is not running.
func (p *Process) PID() int {
	cmd, _ := p.current()
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	return cmd.Process.Pid
}
