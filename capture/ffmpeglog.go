package capture

import "os"

// OpenCV's FFmpeg backend logs FFmpeg's own complaints about a broken file
// ("moov atom not found", "error reading header") straight to stderr, in
// the middle of a command's output, before the command says in one line
// what is wrong with the file. It reads its log level from this variable
// when it first opens a video; AV_LOG_QUIET silences it. A level the user
// set is kept (e.g. OPENCV_FFMPEG_LOGLEVEL=32 to debug a camera).
func init() {
	if _, ok := os.LookupEnv("OPENCV_FFMPEG_LOGLEVEL"); !ok {
		os.Setenv("OPENCV_FFMPEG_LOGLEVEL", "-8") // AV_LOG_QUIET
	}
}
