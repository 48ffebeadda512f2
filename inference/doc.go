// Package inference runs the try-on student with ONNX Runtime.
//
// It owns the model folder (manifest.json + one ONNX graph per stage, see
// docs/model-contract.md), the conversion of OpenCV images to and from the
// graphs' tensors, person framing (finding the person in a webcam frame,
// cropping a 3:4 box and pasting the result back), and the staged Pipeline
// that runs the slow warp stage and the cheap generation stage on their own
// goroutines so that a live stream stays fluid.
//
// Frame ownership: every gocv.Mat handed to this package (Pipeline.Submit,
// Pipeline.Process) is owned by the package from then on; every Mat it hands
// out (in a Result) is owned by the receiver, who must Close it once.
package inference
