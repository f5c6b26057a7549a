#!/bin/sh
# Checks the built book (book/book/*.html, after `mdbook build book`) for damage the build itself
# never reports:
#
# 1. Control bytes. A C0 control byte (or DEL) other than newline and tab is never meant to be in
#    a page; a tab is only meant inside <pre>. They appear when a tool or a Markdown edit turned
#    `\t` of `\text` into a TAB, `\a` of `\approx` into a BEL, and so on.
# 2. Unrendered math. MathJax only typesets TeX between `\( \)`, `\[ \]` and `$$ $$` in the HTML.
#    Markdown eats one backslash, so the source must say `\\(`; a source `\(` reaches the page as a
#    bare `(` and its TeX is shown raw. The check therefore reports TeX (`\alpha`, `\frac`, `^{`,
#    `_1`) in the text outside math, <pre>, <code>, <script> and <style>, a math delimiter closed
#    without being opened, and one left open at the end of its paragraph (or page).
# 3. Includes that failed: an `{{#include file:anchor}}` whose anchor is gone includes nothing, one
#    whose file is gone stays in the page as written.
#
# Prints file:line: message for each finding and exits with status 1 if there is any.
# Usage: .ci/check_book.sh [DIR]   (DIR defaults to book/book; only POSIX sh, grep, awk, tr, wc)
set -u
dir=${1:-book/book}
# print.html repeats every chapter; checking the chapters alone reports each defect once.
files=$(find "$dir" -name '*.html' ! -name print.html | LC_ALL=C sort)
if [ -z "$files" ]; then
    echo "check_book: no HTML files under $dir (run 'mdbook build book' first)" >&2
    exit 1
fi

status=0
for f in $files; do
    # A NUL byte would stop grep and awk reading the line; count those apart.
    nul=$(tr -cd '\000' <"$f" | wc -c)
    if [ "$nul" -ne 0 ]; then
        echo "$f: $nul NUL byte(s)"
        status=1
    fi
    # Bytes 1-8, 11-31 and 127: every control byte but tab (9) and newline (10).
    hits=$(LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" "$f")
    if [ -n "$hits" ]; then
        printf '%s\n' "$hits" | tr '\001-\011\013-\037\177' '?' | sed "s|^|$f:|; s|\$| [control byte, shown as ?]|"
        status=1
    fi
    # mdBook turns an {{#include file:anchor}} whose anchor is missing into an empty listing,
    # without a warning, and leaves one whose file is missing in the page as it was written,
    # with an error message but a successful build.
    if grep -n '<pre><code[^>]*></code></pre>' "$f" | sed "s|^|$f:|; s|\$| [empty listing: an include whose anchor is missing?]|" | grep .; then
        status=1
    fi
    if grep -n '{{#' "$f" | sed "s|^|$f:|; s|\$| [an include mdBook could not resolve]|" | grep .; then
        status=1
    fi
done

# The math and tab checks read the HTML as a stream of tokens: tags, math delimiters and text.
LC_ALL=C awk '
function report(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg
    bad = 1
}
# Text outside math and code: TeX in it was meant to be math.
function check_text(s) {
    gsub(/<[^>]*>/, " ", s)
    if (match(s, /\\[A-Za-z]+|[\^_][{0-9]/))
        report("unrendered math: \"" substr(s, RSTART, RLENGTH) "\" outside \\( \\), \\[ \\], $$ $$ in: " trim(s))
}
function trim(s) {
    gsub(/^[ \t]+|[ \t]+$/, "", s)
    gsub(/[\001-\011\013-\037\177]/, "?", s)
    return length(s) > 100 ? substr(s, 1, 100) "..." : s
}
FNR == 1 {
    if (math != "") close_math_at_end()
    skip = ""; math = ""
}
function close_math_at_end() {
    printf "%s:%d: unrendered math: %s opened here is never closed\n", math_file, math_line, math
    bad = 1
    math = ""
}
{
    line = $0
    while (line != "") {
        if (skip != "") {
            # Inside <pre>, <code>, <script> or <style>: look only for its end.
            i = index(line, "</" skip ">")
            if (i == 0) {
                if (skip != "pre" && index(line, "\t")) report("tab outside <pre>")
                next
            }
            if (skip != "pre" && index(substr(line, 1, i), "\t")) report("tab outside <pre>")
            line = substr(line, i + length(skip) + 3)
            skip = ""
            continue
        }
        if (math != "") {
            # Inside math: find the closing delimiter; a paragraph end before it means MathJax
            # never saw a pair.
            i = index(line, closer)
            e = match(line, /<\/(p|li|td|th|h[1-6]|blockquote)>/) ? RSTART : 0
            if (e && (i == 0 || e < i)) {
                close_math_at_end()
                line = substr(line, e)
                continue
            }
            if (index(i ? substr(line, 1, i) : line, "\t")) report("tab outside <pre>")
            if (i == 0) next
            line = substr(line, i + length(closer))
            math = ""
            continue
        }
        # Outside math and code: the earliest tag that starts code, or math delimiter.
        if (!match(line, /<(pre|code|script|style)[ >]|\\\(|\\\[|\\\)|\\\]|\$\$/)) {
            if (index(line, "\t")) report("tab outside <pre>")
            check_text(line)
            next
        }
        start = RSTART; len = RLENGTH; tok = substr(line, start, len)
        before = substr(line, 1, start - 1)
        if (index(before, "\t")) report("tab outside <pre>")
        check_text(before)
        line = substr(line, start + len)
        if (tok == "\\(") { math = "\\("; closer = "\\)" }
        else if (tok == "\\[") { math = "\\["; closer = "\\]" }
        else if (tok == "$$") { math = "$$"; closer = "$$" }
        else if (tok == "\\)" || tok == "\\]") report("unrendered math: " tok " closes no math")
        else skip = substr(tok, 2, length(tok) - 2)
        if (math != "") { math_file = FILENAME; math_line = FNR }
    }
}
END {
    if (math != "") close_math_at_end()
    exit bad
}
' $files || status=1

if [ "$status" -ne 0 ]; then
    echo "check_book: the built book in $dir has the defects above" >&2
fi
exit "$status"
