#!/usr/bin/env python3
"""Checks a built documentation site (mkdocs' output folder): every internal link and image
of every page resolves to a file of the site, and every #fragment to an id of its page.

  check_site.py SITE_DIR
"""
import html.parser
import sys
import urllib.parse
from pathlib import Path


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []  # (attribute value, tag)
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if value and ((tag == "a" and name == "href") or
                          (tag in ("img", "script") and name == "src") or
                          (tag == "link" and name == "href")):
                self.links.append((value, tag))


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def main():
    site = Path(sys.argv[1]).resolve()
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    checked = 0
    for path, page in pages.items():
        for link, tag in page.links:
            url = urllib.parse.urlsplit(link)
            if url.scheme or url.netloc or link.startswith("mailto:"):
                continue  # outside the site
            checked += 1
            if not url.path:
                target = path
            elif url.path.startswith("/"):  # from the site's root (the 404 page's links)
                target = site / urllib.parse.unquote(url.path).lstrip("/")
            else:
                target = path.parent / urllib.parse.unquote(url.path)
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists() or site not in target.parents and target != site:
                broken.append(f"{path.relative_to(site)}: {link} ({tag}): no such file")
                continue
            if url.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {link}: no id "
                                  f"'{url.fragment}' in {target.relative_to(site)}")
    if not pages:
        print(f"check_site: no pages under {site}")
        return 1
    for b in broken:
        print(b)
    print(f"check_site: {len(pages)} pages, {checked} internal links, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
