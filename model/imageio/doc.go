// Package imageio turns image files into the model's input tensors, and the model's
// tensors back into images: the input as the model sees it, the reconstruction x̂ and a
// heat map of |x − x̂|.
//
// # Decoding
//
// [Decode] accepts PNG, JPEG, GIF and WebP, recognised by their magic bytes (other
// formats registered with package image elsewhere in the program are not accepted). It
// refuses, before decoding a single pixel, a file larger than [Limits].MaxBytes and an
// image whose header gives a zero side, a side over MaxSide or more than MaxPixels
// pixels: a 100000×100000 PNG header costs about a kilobyte to refuse, not 10 GB. A PNG
// whose header promises more pixels than its bytes could hold even at deflate's best
// ratio (1032:1) is refused as corrupt just as early, since image/png would allocate
// the whole image before finding the data missing.
// Decoding an image that passes can still take up to 8 bytes a pixel (a 16-bit RGBA PNG)
// or about 4 bytes a pixel and channel (a progressive JPEG's coefficients), so
// [DefaultLimits]' 40 Mpx can mean a few hundred MB while it decodes; lower MaxPixels
// where memory is tight. Only the first frame of an animated GIF is read, drawn at its
// place on the GIF's canvas. JPEG EXIF orientation is ignored, as Go's decoder does.
//
// Decode never panics: a panic inside a decoder is recovered and returned as an error,
// so that a hostile file cannot take down a browser tab's whole Go program. Every error
// wraps one of [ErrFormat], [ErrTooLarge], [ErrZeroSize] or [ErrCorrupt] (test with
// errors.Is) and its message says what to do about it. A fuzz target, FuzzLoad, holds
// the package to that.
//
// # From image to tensor
//
// [Tensor] reproduces the torchvision pipeline the model was trained with,
// Resize((size, size)) → Grayscale (when channels is 1) → ToTensor → Normalize(0.5, 0.5):
//
//   - Resize: the whole image is stretched to size×size, as Resize((s, s)) does; a
//     non-square image is not cropped or padded, so its aspect ratio changes. An image
//     already size×size is not resampled. The filter is x/image/draw's [draw.BiLinear]
//     (a triangle kernel at pixel centres, weights renormalised at the borders), whose
//     Kernel.Scale widens the kernel by the scale factor when shrinking: that is PIL's
//     BILINEAR resize with antialiasing, which torchvision's Resize uses on PIL images
//     (upscaling MNIST from 28×28 to 32×32 included). The kernel, the pixel-centre
//     alignment and the border handling are PIL's; only rounding differs (PIL rounds an
//     8-bit intermediate after each pass, x/image/draw keeps float64 between passes and
//     truncates 16-bit results to 8), so values can differ from PIL's by a grey level.
//   - Alpha is composited over black, i.e. transparent pixels become black: MNIST digits
//     are white on black, so a white digit on a transparent background reads as one.
//     (PIL's convert("L") would drop alpha instead, revealing whatever colour the
//     transparent pixels happen to hold.) Resampling is done on premultiplied colours,
//     so transparent pixels do not bleed their colour into their neighbours.
//   - Grayscale uses ITU-R 601-2 luma with PIL's fixed-point formula for mode "L":
//     L = (19595·R + 38470·G + 7471·B + 2^15) >> 16, on 8-bit values; pure red is 76.
//   - Each 8-bit value v becomes (v/255 − 0.5)/0.5 in float32 arithmetic, exactly as
//     ToTensor and Normalize compute it: 0 is −1, 255 is 1, and the result matches
//     PyTorch's bit for bit.
//
// Tensors are CHW, row-major: value (c, y, x) is at index c·size·size + y·size + x.
// Intermediate values are 8-bit, as with PIL; 16-bit images lose their low byte.
//
// # From tensor to image
//
// [Image] is Tensor's inverse for images already size×size (round trip exact for 8-bit
// values); [HeatMap] draws |a − b| with the inferno colour map; [EncodePNG] gives the PNG
// bytes the app and the CLI show and save.
//
// Bad shapes passed to Tensor, Image and HeatMap (size ≤ 0, channels other than 1 or 3,
// a tensor too short) are programmer errors and panic with a message from errors.go;
// everything that comes from a file returns an error.
//
// The package is pure Go with no cgo and no syscall/js; it builds for GOOS=js
// GOARCH=wasm, where the browser app decodes dropped files with it. Its only
// dependencies outside the standard library are golang.org/x/image/webp (decode only)
// and golang.org/x/image/draw.
package imageio
