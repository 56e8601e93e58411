// Command gotk-rules evaluates and tests Prometheus alerting rules.
package main

import (
	"os"

	"github.com/gotk-rules/gotk-rules/cli"
)

func main() { os.Exit(cli.Run()) }
