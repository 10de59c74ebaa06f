// Precompile the five _.template('...') calls of the vendored leaflet-measure 2.1.7 bundle
// (gis_service/maps/static/measure/leaflet-measure.min.js) into functions, so a map page runs
// under a Content-Security-Policy without 'unsafe-eval' (the bundle compiled them with new Function
// when it loaded).  Run once on the npm file:  npm pack underscore@1.13.8 && tar xzf underscore-*.tgz
//   node scripts/precompile_measure_templates.js package/underscore-umd.js IN.min.js OUT.min.js
const fs = require('fs');
const _ = require(require('path').resolve(process.argv[2]));
const [src, out] = process.argv.slice(3);
let code = fs.readFileSync(src, 'utf8');
let n = 0;
const re = /c\.template\(('(?:[^'\\]|\\.)*')\)/g;
code = code.replace(re, (m, lit) => {
  const text = eval(lit);  // a string literal of the vendored file, at build time
  const source = _.template(text).source;  // "function(obj,_){...}"
  n += 1;
  return `(function(r){return function(d){return r.call(this,d,c)}})(${source})`;
});
fs.writeFileSync(out, code);
console.log('precompiled', n);
