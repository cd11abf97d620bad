#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <jpeglib.h>

/* libjpeg reports errors by calling error_exit, which exits the process by default; this decoder jumps back
   instead, so a corrupt JPEG becomes an error code and a message. The header is read first and images above
   max_pixels are refused before any pixel buffer is allocated. Swift cannot use setjmp, hence C. */

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} audionet_jpeg_error;

static void audionet_jpeg_error_exit(j_common_ptr info) {
    audionet_jpeg_error *error = (audionet_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

/* Keeps the first warning (level -1: "Premature end of JPEG file" for a truncated file), drops trace messages. */
static void audionet_jpeg_warning(j_common_ptr info, int level) {
    audionet_jpeg_error *error = (audionet_jpeg_error *)info->err;
    if (level < 0 && error->message[0] == 0) (*info->err->format_message)(info, error->message);
}

/* Returns 0 and a malloc'ed RGB buffer (free with free()), 1 on a decoding error, 2 when the image is too
   large; message receives a description (at least JMSG_LENGTH_MAX bytes): the error, or after a decoded image
   its first warning (empty when there was none). */
static inline int audionet_decode_jpeg(const unsigned char *data, unsigned long size, unsigned long max_pixels,
                                       unsigned char **pixels, int *width, int *height, char *message) {
    struct jpeg_decompress_struct info;
    audionet_jpeg_error error;
    unsigned char *volatile buffer = NULL;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = audionet_jpeg_error_exit;
    error.manager.emit_message = audionet_jpeg_warning;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        snprintf(message, JMSG_LENGTH_MAX, "%s", error.message);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    *width = (int)info.image_width;
    *height = (int)info.image_height;
    if (info.image_width == 0 || info.image_height == 0 ||
        (unsigned long)info.image_width * (unsigned long)info.image_height > max_pixels) {
        jpeg_destroy_decompress(&info);
        return 2;
    }
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    buffer = malloc((size_t)info.output_width * info.output_height * 3);
    if (!buffer) { jpeg_destroy_decompress(&info); snprintf(message, JMSG_LENGTH_MAX, "out of memory"); return 1; }
    while (info.output_scanline < info.output_height) {
        unsigned char *row = buffer + (size_t)info.output_scanline * info.output_width * 3;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    snprintf(message, JMSG_LENGTH_MAX, "%s", error.message);
    *pixels = buffer;
    return 0;
}
