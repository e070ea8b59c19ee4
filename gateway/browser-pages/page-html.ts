/** The HTML shell of a page: its bundled stylesheet and module script, nothing inline. */
export function pageHtml(options: { title: string; rootId: string; assets: string; name: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${options.title}</title>
<link rel="stylesheet" href="${options.assets}/${options.name}.css">
</head>
<body>
<div id="${options.rootId}"></div>
<script type="module" src="${options.assets}/${options.name}.js"></script>
</body>
</html>
`;
}
