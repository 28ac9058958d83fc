#!/bin/sh
# Fails when a translation in po/ is incomplete or broken.
#
#   tests/check-translations.sh SRCDIR
#
# It extracts a fresh template from po/POTFILES.in the way meson's i18n module does (the same
# xgettext keywords as its 'glib' preset; .ui, .gschema.xml, metainfo and desktop files through
# the ITS rules and desktop support that ship with gettext, GLib and GTK), merges every language
# of po/LINGUAS against it in a scratch directory, and fails when a string is untranslated or
# fuzzy there. It then runs msgfmt --check --check-format --check-accelerators on the committed
# catalogue and on the merged one, and checks the Plural-Forms header of the languages we know.
# Nothing in the source tree is written.
set -eu

srcdir=${1:?usage: $0 SRCDIR}
podir="$srcdir/po"
domain=envoi

work=$(mktemp -d "${TMPDIR:-/tmp}/envoi-po-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# po/POTFILES.in without comments and blank lines.
sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$podir/POTFILES.in" >"$work/POTFILES"

# The keywords of meson's i18n.gettext(preset: 'glib'), plus plain ngettext.
(cd "$srcdir" && xgettext \
  --files-from="$work/POTFILES" \
  --directory="$srcdir" \
  --output="$work/$domain.pot" \
  --from-code=UTF-8 \
  --add-comments \
  --package-name="$domain" \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --keyword=ngettext:1,2 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
  --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format)

total=$(grep -c '^msgid ' "$work/$domain.pot" || true)
# The header is one msgid.
total=$((total - 1))
if [ "$total" -le 0 ]; then
  echo "FAIL: the template extracted from po/POTFILES.in is empty" >&2
  exit 1
fi
echo "template: $total strings from $(wc -l <"$work/POTFILES") files"

status=0
fail() {
  echo "FAIL: $*" >&2
  status=1
}

langs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$podir/LINGUAS")
[ -n "$langs" ] || fail "po/LINGUAS lists no language"

for lang in $langs; do
  po="$podir/$lang.po"
  if [ ! -f "$po" ]; then
    fail "$lang: po/$lang.po is missing"
    continue
  fi

  # The committed catalogue is what the build compiles: it must pass msgfmt's checks as is.
  if ! msgfmt --check --check-format --check-accelerators=_ -o /dev/null "$po" 2>"$work/$lang.msgfmt"; then
    cat "$work/$lang.msgfmt" >&2
    fail "$lang: msgfmt --check complains about po/$lang.po"
  fi

  # Merged with fuzzy matching, as a translator would: a msgid that changed in the code comes
  # out fuzzy, a new one untranslated; both fail.
  merged="$work/$lang.po"
  msgmerge --quiet --previous --output-file="$merged" "$po" "$work/$domain.pot"
  if ! msgfmt --check --check-format --check-accelerators=_ -o /dev/null "$merged" 2>"$work/$lang.msgfmt"; then
    cat "$work/$lang.msgfmt" >&2
    fail "$lang: msgfmt --check complains about po/$lang.po merged with the current template"
  fi

  msgattrib --only-fuzzy --no-obsolete --no-wrap "$merged" >"$work/$lang.fuzzy" || true
  msgattrib --untranslated --no-obsolete --no-wrap "$merged" >"$work/$lang.untranslated" || true
  # msgattrib keeps the header entry in its output: count real entries only.
  nfuzzy=$(grep -c '^msgid ' "$work/$lang.fuzzy" || true)
  nuntr=$(grep -c '^msgid ' "$work/$lang.untranslated" || true)
  [ "$nfuzzy" -gt 0 ] && nfuzzy=$((nfuzzy - 1))
  [ "$nuntr" -gt 0 ] && nuntr=$((nuntr - 1))
  if [ "$nfuzzy" -gt 0 ]; then
    echo "--- $lang: fuzzy entries" >&2
    grep -E '^(#: |#\| |msgctxt |msgid )' "$work/$lang.fuzzy" | sed 1d >&2
    fail "$lang: $nfuzzy fuzzy strings (a source string changed: translate it again)"
  fi
  if [ "$nuntr" -gt 0 ]; then
    echo "--- $lang: untranslated entries" >&2
    grep -E '^(#: |msgctxt |msgid )' "$work/$lang.untranslated" | sed 1d >&2
    fail "$lang: $nuntr untranslated strings"
  fi

  # Plural-Forms of the languages we ship (the GNOME teams' headers).
  case $lang in
    ja) expected='nplurals=1; plural=0;' ;;
    fr) expected='nplurals=2; plural=(n > 1);' ;;
    *) expected='' ;;
  esac
  if [ -n "$expected" ]; then
    actual=$(sed -n 's/^"Plural-Forms: *\(.*\)\\n"$/\1/p' "$po")
    [ "$actual" = "$expected" ] || fail "$lang: Plural-Forms is '$actual', expected '$expected'"
  fi

  printf '%s: ' "$lang"
  msgfmt --statistics -o /dev/null "$merged" 2>&1
done

exit $status
