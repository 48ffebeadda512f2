package cli

import (
	"errors"
	"fmt"
	"os"

	fyneapp "fyne.io/fyne/v2/app"

	"mgvton/garments"
	"mgvton/inference"
	_ "mgvton/internal/quietlocale" // before Fyne reads the locale: see its doc
	"mgvton/live"
	"mgvton/person"
	"mgvton/ui"
)

func init() {
	register("app", "open the desktop app (the default)", runApp)
}

func runApp(args []string) error {
	fs := newFlags("", "[-source SRC] [-model DIR] [-garment ID]")
	source := fs.String("source", "", "start on this source: demo, cam:N, /dev/videoN or a video file (default: last used, else a camera, else the demo)")
	model := fs.String("model", "", "start with this model folder (default: last used, else models/default)")
	garment := fs.String("garment", "", "start wearing this catalog garment (default: last used)")
	libraryPath := fs.String("ort-lib", "", "ONNX Runtime library (default: $"+inference.LibraryEnv+", then lib/libonnxruntime.so)")
	var device deviceFlag
	device.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkLite)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := device.apply(); err != nil {
		return err
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display: the app needs an X11 or Wayland session (DISPLAY is not set); " +
			"tryon, video, record and bench work without one")
	}
	if err := inference.Init(*libraryPath); err != nil {
		// The window still opens and shows the camera; choosing a model
		// shows this error again where the user looks.
		fmt.Fprintf(os.Stderr, "mgvton: %v; the app opens without try-on\n", err)
	}
	device.report()
	lib, libErr := garments.OpenLibrary(garments.DefaultDirs())
	if libErr != nil {
		// The library is still usable (the bundled catalog loads); say why
		// the user's garments are missing.
		fmt.Fprintf(os.Stderr, "mgvton: %v\n", libErr)
	}
	eng := live.NewEngine(lib, live.Options{LibraryPath: *libraryPath, PoseLite: pose.lite()})
	defer eng.Close()
	a := fyneapp.NewWithID("io.github.mgvton")
	w := ui.New(a, eng, live.NewCatalog(lib), ui.Options{StartSource: *source, StartGarment: *garment, StartModel: *model})
	w.ShowAndRun()
	return nil
}
