package person

// nobodyImages are real photos with nobody in them (testdata/).
var nobodyImages = []string{}
