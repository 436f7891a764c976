/* mime.c - MIME types by extension (mime.h).  The table is sorted by
 * extension (lower case, ASCII order) for the binary search. */
#include <stdlib.h>
#include <string.h>
#include "openbook/files/mime.h"

typedef struct mime_entry {
    const char *ext;
    const char *type;
} mime_entry;

/* Python 3.11's mimetypes defaults; .js/.mjs as RFC 9239 has them; and
 * the fonts, archives, office and media formats people upload. */
static const mime_entry table[] = {
    {"3g2", "audio/3gpp2"},
    {"3gp", "audio/3gpp"},
    {"3gpp", "audio/3gpp"},
    {"3gpp2", "audio/3gpp2"},
    {"7z", "application/x-7z-compressed"},
    {"a", "application/octet-stream"},
    {"aac", "audio/aac"},
    {"adts", "audio/aac"},
    {"ai", "application/postscript"},
    {"aif", "audio/x-aiff"},
    {"aifc", "audio/x-aiff"},
    {"aiff", "audio/x-aiff"},
    {"apng", "image/apng"},
    {"ass", "audio/aac"},
    {"au", "audio/basic"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bat", "text/plain"},
    {"bcpio", "application/x-bcpio"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"c", "text/plain"},
    {"cdf", "application/x-netcdf"},
    {"cpio", "application/x-cpio"},
    {"csh", "application/x-csh"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"dll", "application/octet-stream"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"dot", "application/msword"},
    {"dvi", "application/x-dvi"},
    {"eml", "message/rfc822"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"etx", "text/x-setext"},
    {"exe", "application/octet-stream"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gtar", "application/x-gtar"},
    {"gz", "application/gzip"},
    {"h", "text/plain"},
    {"h5", "application/x-hdf5"},
    {"hdf", "application/x-hdf"},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar"},
    {"ief", "image/ief"},
    {"jpe", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"ksh", "text/plain"},
    {"latex", "application/x-latex"},
    {"loas", "audio/aac"},
    {"m1v", "video/mpeg"},
    {"m3u", "application/vnd.apple.mpegurl"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"man", "application/x-troff-man"},
    {"map", "application/json"},
    {"markdown", "text/markdown"},
    {"md", "text/markdown"},
    {"me", "application/x-troff-me"},
    {"mht", "message/rfc822"},
    {"mhtml", "message/rfc822"},
    {"mif", "application/x-mif"},
    {"mjs", "text/javascript"},
    {"mov", "video/quicktime"},
    {"movie", "video/x-sgi-movie"},
    {"mp2", "audio/mpeg"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpa", "video/mpeg"},
    {"mpe", "video/mpeg"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"ms", "application/x-troff-ms"},
    {"n3", "text/n3"},
    {"nc", "application/x-netcdf"},
    {"nq", "application/n-quads"},
    {"nt", "application/n-triples"},
    {"nws", "message/rfc822"},
    {"o", "application/octet-stream"},
    {"obj", "application/octet-stream"},
    {"oda", "application/oda"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/opus"},
    {"otf", "font/otf"},
    {"p12", "application/x-pkcs12"},
    {"p7c", "application/pkcs7-mime"},
    {"pbm", "image/x-portable-bitmap"},
    {"pdf", "application/pdf"},
    {"pfx", "application/x-pkcs12"},
    {"pgm", "image/x-portable-graymap"},
    {"pl", "text/plain"},
    {"png", "image/png"},
    {"pnm", "image/x-portable-anymap"},
    {"pot", "application/vnd.ms-powerpoint"},
    {"ppa", "application/vnd.ms-powerpoint"},
    {"ppm", "image/x-portable-pixmap"},
    {"pps", "application/vnd.ms-powerpoint"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"pwz", "application/vnd.ms-powerpoint"},
    {"py", "text/x-python"},
    {"pyc", "application/x-python-code"},
    {"pyo", "application/x-python-code"},
    {"qt", "video/quicktime"},
    {"ra", "audio/x-pn-realaudio"},
    {"ram", "application/x-pn-realaudio"},
    {"ras", "image/x-cmu-raster"},
    {"rdf", "application/xml"},
    {"rgb", "image/x-rgb"},
    {"roff", "application/x-troff"},
    {"rtf", "application/rtf"},
    {"rtx", "text/richtext"},
    {"sgm", "text/x-sgml"},
    {"sgml", "text/x-sgml"},
    {"sh", "application/x-sh"},
    {"shar", "application/x-shar"},
    {"snd", "audio/basic"},
    {"so", "application/octet-stream"},
    {"src", "application/x-wais-source"},
    {"srt", "text/plain"},
    {"sv4cpio", "application/x-sv4cpio"},
    {"sv4crc", "application/x-sv4crc"},
    {"svg", "image/svg+xml"},
    {"swf", "application/x-shockwave-flash"},
    {"t", "application/x-troff"},
    {"tar", "application/x-tar"},
    {"tcl", "application/x-tcl"},
    {"tex", "application/x-tex"},
    {"texi", "application/x-texinfo"},
    {"texinfo", "application/x-texinfo"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tr", "application/x-troff"},
    {"trig", "application/trig"},
    {"tsv", "text/tab-separated-values"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"ustar", "application/x-ustar"},
    {"vcf", "text/x-vcard"},
    {"vtt", "text/vtt"},
    {"wasm", "application/wasm"},
    {"wav", "audio/x-wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"wiz", "application/msword"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wsdl", "application/xml"},
    {"xbm", "image/x-xbitmap"},
    {"xlb", "application/vnd.ms-excel"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "text/xml"},
    {"xpdl", "application/xml"},
    {"xpm", "image/x-xpixmap"},
    {"xsl", "application/xml"},
    {"xwd", "image/x-xwindowdump"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
};

static int entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const mime_entry *)elem)->ext);
}

const char *ob_mime_type(const char *name, size_t len)
{
    const char *dot = NULL;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '.') {
            dot = name + i - 1;
            break;
        }
        if (name[i - 1] == '/')
            break;
    }
    if (!dot || dot == name || dot[-1] == '/')
        return OB_MIME_DEFAULT;
    size_t n = len - (size_t)(dot + 1 - name);
    char ext[16];
    if (n == 0 || n >= sizeof ext)
        return OB_MIME_DEFAULT;
    for (size_t i = 0; i < n; i++) {
        char c = dot[1 + i];
        if (c == '\0')
            return OB_MIME_DEFAULT;
        ext[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    ext[n] = '\0';
    const mime_entry *e = bsearch(ext, table, sizeof table / sizeof table[0], sizeof table[0],
                                  entry_cmp);
    return e ? e->type : OB_MIME_DEFAULT;
}
