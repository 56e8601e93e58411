package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts CPU profiling when --cpuprofile is given. The
// profile goes to a temporary file next to the one named, renamed over it
// when profiling stops: a run that fails early leaves the file as it was.
// checkOutputs has already refused a --cpuprofile that is an input.
func (g *globals) startProfiles() error {
	if g.cpuProfile == "" {
		return nil
	}
	f, err := os.CreateTemp(dirOf(g.cpuProfile), ".gotk-rules-*")
	if err != nil {
		return badInput(fmt.Errorf("--cpuprofile: %w", err))
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return badInput(fmt.Errorf("--cpuprofile: %w", err))
	}
	g.cpuFile = f
	return nil
}

// stopProfiles ends CPU profiling and writes the heap profile, if asked,
// each whole or not at all.
func (g *globals) stopProfiles() error {
	var errs []error
	if g.cpuFile != nil {
		pprof.StopCPUProfile()
		tmp := g.cpuFile.Name()
		err := g.cpuFile.Close()
		g.cpuFile = nil
		if err == nil {
			err = os.Chmod(tmp, 0o644)
		}
		if err == nil {
			err = os.Rename(tmp, g.cpuProfile)
		}
		if err != nil {
			os.Remove(tmp)
			errs = append(errs, fmt.Errorf("--cpuprofile: %w", err))
		}
	}
	// A command that stopped before checking its outputs (a bad flag)
	// writes no heap profile: the file named may be an input.
	if g.memProfile != "" && g.outputsChecked {
		if err := writeFile(g.memProfile, func(w io.Writer) error {
			runtime.GC()
			return pprof.WriteHeapProfile(w)
		}); err != nil {
			errs = append(errs, fmt.Errorf("--memprofile: %w", err))
		}
	}
	return errors.Join(errs...)
}
