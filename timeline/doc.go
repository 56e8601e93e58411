// Package timeline draws a replay as one picture over a single time axis:
// the input series (samples and staleness markers), the objects' true
// states when the replay comes from a scenario, and every alert's pending
// and firing bands.
//
// A View holds what is drawn, with times in milliseconds from the replay's
// start; FromReplay, FromScenario, FromSeries and FromTimeline build one.
// WriteSVG draws it as SVG and WriteHTML as a self-contained HTML page with
// a time cursor. The same View, marshalled as JSON, feeds the cursor script
// (timeline.js) of the page that shows the SVG, such as the sandbox of
// `gotk-rules serve`, which serves the script and stylesheet from Assets.
//
// `gotk-rules replay --svg/--html`, `gotk-rules backtest --svg/--html` and
// the sandbox all draw through this package, so they draw alike.
package timeline
